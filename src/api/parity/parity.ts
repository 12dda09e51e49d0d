// Weft's kinds against Istio's, field by field: which Istio field paths Weft accepts (with the same type), and how
// each accepted field is applied (applied.ts). The unit test
// src/api/parity.test.ts fails on any gap, and keeps the tables of docs/api.md equal to `parityMarkdown()`.
import { crds } from '../crds.js';
import { CLIENTS, applicationOf, applied, canonicalPath, type Application, type ParityKind, type Support } from './applied.js';
import { ISTIO_SOURCE, istioFields } from './istio-fields.js';
import { schemaFields, type SchemaNode } from './schema-fields.js';

export const PARITY_KINDS: ParityKind[] = ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'WorkloadEntry'];

/** Weft's own fields, with no Istio counterpart. */
export const WEFT_EXTENSIONS: ReadonlyArray<{ kind: ParityKind; field: RegExp; what: string }> = [
  { kind: 'Gateway', field: /^deployment(\.|$)/, what: 'deployment: the gateway workload Weft generates (docs/api.md)' },
];

/** Weft's spec field paths of a kind, with their types, from its CRD schema. */
export function weftFields(kind: ParityKind): Map<string, string> {
  const spec = crds[kind].spec.versions[0]!.schema.openAPIV3Schema.properties!.spec as SchemaNode;
  return new Map(schemaFields(spec).map((f) => [f.path, f.type]));
}

/** A leaf carries a value; objects (and lists or maps of objects) are applied as their fields are. */
export function isLeaf(type: string): boolean {
  return !/^(object|array<object>|map<object>)$/.test(type);
}

export interface ParityProblem {
  kind: ParityKind;
  path: string;
  problem: string;
}

/** Every gap between Istio and Weft; empty when they are at parity. */
export function parityProblems(): ParityProblem[] {
  const out: ParityProblem[] = [];
  for (const kind of PARITY_KINDS) {
    const weft = weftFields(kind);
    const istio = new Map(istioFields[kind].map((f) => [f.path, f]));
    const canonicalIstio = new Set([...istio.keys()].map((p) => canonicalPath(kind, p)));
    for (const f of istioFields[kind]) {
      const type = weft.get(f.path);
      if (type === undefined) out.push({ kind, path: f.path, problem: `missing in Weft (Istio: ${f.type}${f.deprecated ? ', deprecated' : ''})` });
      else if (type !== f.type) out.push({ kind, path: f.path, problem: `type ${type} in Weft, ${f.type} in Istio` });
      else if (isLeaf(f.type) && !applicationOf(kind, f.path)) out.push({ kind, path: f.path, problem: 'not classified in src/api/parity/applied.ts' });
    }
    for (const path of weft.keys()) {
      if (!istio.has(path) && !WEFT_EXTENSIONS.some((e) => e.kind === kind && e.field.test(path))) {
        out.push({ kind, path, problem: 'not an Istio field: list it in WEFT_EXTENSIONS or remove it' });
      }
    }
    for (const path of Object.keys(applied[kind])) {
      if (!canonicalIstio.has(path)) out.push({ kind, path, problem: 'classified in applied.ts but not an Istio field' });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// docs/api.md tables.

export const DOCS_BEGIN = '<!-- BEGIN GENERATED: parity (src/api/parity.test.ts; UPDATE_PARITY_DOCS=1 to rewrite) -->';
export const DOCS_END = '<!-- END GENERATED: parity -->';

type Category = 'both' | 'Envoy only' | 'proxyless only' | 'not yet';

function appliedFor(a: Application, client: 'envoy' | 'proxyless'): boolean {
  return a[client] !== 'n/a' && a[client] === 'applied';
}

function category(kind: ParityKind, a: Application): Category {
  const clients = CLIENTS[kind];
  const envoy = clients.includes('envoy') && appliedFor(a, 'envoy');
  const proxyless = clients.includes('proxyless') ? appliedFor(a, 'proxyless') || a.proxyless === 'n/a' : envoy;
  if (envoy && proxyless) return 'both';
  if (envoy) return 'Envoy only';
  if (proxyless) return 'proxyless only';
  return 'not yet';
}

function cell(s: Support): string {
  if (s === 'applied') return 'applied';
  if (s === 'n/a') return '—';
  const anyway = s.appliedFor ? ` (nothing is lost for ${s.appliedFor.map((v) => `\`${String(v)}\``).join(', ')})` : '';
  return `not yet: ${s.notYet}${anyway}`;
}

const escape = (s: string) => s.replace(/\|/g, '\\|');

export function parityMarkdown(): string {
  const lines: string[] = [];
  lines.push(`Compared with Istio's \`networking.istio.io/v1\` CRDs (${ISTIO_SOURCE}; \`node hack/istio-fields.ts\` regenerates`);
  lines.push('src/api/parity/istio-fields.ts). Field paths count every field, objects included; "leaves" are the fields that');
  lines.push('carry a value, classified in src/api/parity/applied.ts (a DestinationRule traffic policy counted once for its four places).');
  lines.push('');
  lines.push('| Kind | Istio field paths | in Weft | Istio deprecated (accepted) | leaves: both clients | Envoy only | proxyless only | not applied yet |');
  lines.push('| --- | --: | --: | --: | --: | --: | --: | --: |');
  for (const kind of PARITY_KINDS) {
    const weft = weftFields(kind);
    const fields = istioFields[kind];
    const present = fields.filter((f) => weft.get(f.path) === f.type);
    const deprecated = present.filter((f) => f.deprecated);
    const counts: Record<Category, number> = { both: 0, 'Envoy only': 0, 'proxyless only': 0, 'not yet': 0 };
    for (const a of Object.values(applied[kind])) counts[category(kind, a)]++;
    lines.push(`| ${kind} | ${fields.length} | ${present.length} | ${deprecated.length} | ${counts.both} | ${counts['Envoy only']} | ${counts['proxyless only']} | ${counts['not yet']} |`);
  }
  lines.push('');
  lines.push('Weft only: ' + WEFT_EXTENSIONS.map((e) => `${e.kind} \`${e.what}\``).join(', ') + '.');
  for (const kind of PARITY_KINDS) {
    const deprecated = new Set(istioFields[kind].filter((f) => f.deprecated).map((f) => canonicalPath(kind, f.path)));
    lines.push('');
    lines.push(`#### ${kind}: what is applied`);
    lines.push('');
    lines.push('| field | Envoy | proxyless gRPC | note |');
    lines.push('| --- | --- | --- | --- |');
    for (const [path, a] of Object.entries(applied[kind]).sort(([x], [y]) => (x < y ? -1 : 1))) {
      const name = `\`${path}\`${deprecated.has(path) ? ' (deprecated)' : ''}`;
      lines.push(`| ${name} | ${escape(cell(a.envoy))} | ${escape(cell(a.proxyless))} | ${escape(a.note ?? '')} |`);
    }
  }
  return lines.join('\n');
}
