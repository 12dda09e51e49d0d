// Everything `kubectl apply -f manifests/` installs, rendered from src: one file per CRD (from src/api) and
// weft-operator.yaml (namespace, ServiceAccount, RBAC, Deployment, Service from the cdk8s chart). Pure: the same
// sources always give the same bytes, so a unit test can compare them with what is committed.
import YAML from 'yaml';
import { GENERATED_HEADER, renderCrdManifests } from '../api/manifests.js';
import { operatorManifests } from './operator-chart.js';

/** Flat, because `kubectl apply -f manifests/` does not descend into folders. */
export const MANIFESTS_DIR = 'manifests';
export const OPERATOR_FILE = 'weft-operator.yaml';
export { GENERATED_HEADER };

/** File name -> YAML text, sorted by file name. */
export function renderManifests(): Map<string, string> {
  const files = new Map(renderCrdManifests());
  const stringify = (o: unknown) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false });
  files.set(OPERATOR_FILE, GENERATED_HEADER + operatorManifests().map(stringify).join('---\n'));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
