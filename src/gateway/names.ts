// What Weft calls and labels the objects it generates for a Gateway. Names and selector labels are stable: they
// never depend on code structure or on a hash, so an upgrade of Weft never orphans pods or renames a Service.
import type { Gateway } from '../api/index.js';

/** Envoy's release line; the tag follows its patch releases, hence imagePullPolicy Always. */
export const ENVOY_IMAGE = 'envoyproxy/envoy:v1.36-latest';

export const FIELD_MANAGER = 'weft-operator';

/** On every generated object: which Gateway it was made for (informers select generated objects by it). */
export const GATEWAY_NAME_LABEL = 'weft.dev/gateway-name';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'weft-operator';

/** On the pod template: a hash of the Gateway spec the pods were made from, so a spec change rolls them. */
export const SPEC_HASH_ANNOTATION = 'weft.dev/gateway-spec-hash';
/** On every generated object: a hash of what Weft last applied, to tell "unchanged" from "fields we stopped sending". */
export const GENERATED_HASH_ANNOTATION = 'weft.dev/generated-hash';

/** Every generated object (ServiceAccount, Deployment, Service, PDB, HPA) has the Gateway's own name. */
export function generatedName(gw: Gateway): string {
  return gw.metadata.name!;
}

/** The Gateway's selector: what the Deployment and Service select and the pods carry. */
export function selectorLabels(gw: Gateway): Record<string, string> {
  return { ...gw.spec.selector };
}

/** Labels of generated objects and pods: the selector, plus who made them and for which Gateway. */
export function generatedLabels(gw: Gateway): Record<string, string> {
  return { ...selectorLabels(gw), [MANAGED_BY_LABEL]: MANAGED_BY, [GATEWAY_NAME_LABEL]: generatedName(gw) };
}

/** Service, Deployment and ServiceAccount names must be RFC 1035 labels; Gateway names may be longer subdomains. */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
