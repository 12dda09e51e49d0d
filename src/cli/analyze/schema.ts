// The CRD schema checks `analyze` can run offline: the TypeBox schemas the CRDs are generated from (types, enums,
// patterns, bounds, required fields), and unknown fields (kubectl's strict field validation refuses them) against
// the generated structural schema. The CRDs' CEL rules (x-kubernetes-validations) need a CEL interpreter, which
// no package here provides: the API server evaluates them at admission, and `analyze` on a live cluster reads
// only objects that passed them.
import Value from 'typebox/value';
import { SPEC_SCHEMAS, crds, type AnyMeshObject, type MeshKind } from '../../api/index.js';
import type { JSONSchemaProps } from '../../api/structural.js';

export interface SchemaProblem {
  field: string;
  message: string;
  unknownField: boolean;
}

/** `/http/0/route` -> `spec.http[0].route`. */
export function fieldPath(base: string, pointer: string): string {
  let out = base;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** What the API server would refuse in `obj.spec` by its schema (CEL rules aside). */
export function schemaProblems(obj: AnyMeshObject): SchemaProblem[] {
  const spec = (obj as { spec?: unknown }).spec;
  if (spec === undefined || spec === null) return [{ field: 'spec', message: 'spec is required', unknownField: false }];
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(SPEC_SCHEMAS[obj.kind], spec)) {
    const field = fieldPath('spec', e.instancePath);
    const key = `${field}\u0000${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ field, message: e.message, unknownField: false });
  }
  const root = crds[obj.kind].spec.versions[0]!.schema.openAPIV3Schema;
  const specSchema = root.properties?.spec;
  if (specSchema) unknownFields(spec, specSchema, 'spec', problems);
  return problems;
}

function unknownFields(value: unknown, schema: JSONSchemaProps, at: string, out: SchemaProblem[]): void {
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => unknownFields(item, schema.items!, `${at}[${i}]`, out));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const additional = schema.additionalProperties;
  for (const [key, child] of Object.entries(value)) {
    const field = fieldPath(at, `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    const known = schema.properties?.[key];
    if (known) unknownFields(child, known, field, out);
    else if (typeof additional === 'object') unknownFields(child, additional, field, out);
    else if (schema.properties) out.push({ field, message: `unknown field "${key}"`, unknownField: true });
  }
}
