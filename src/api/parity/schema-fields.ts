// Field paths of a structural OpenAPI schema, spelled the same way for Istio's CRDs and Weft's: `a.b` for an
// object's property, `a[]` for a list's items, `a{}` for a map's values. The parity check compares Istio's and
// Weft's kinds path by path with these. No imports with runtime effect: hack/istio-fields.ts runs it under Node.

/** The parts of an OpenAPI v3 schema node that decide a field's path and type. */
export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** A field type as the API server sees it: `string`, `integer`, `number`, `boolean`, `object`, `int-or-string`,
 * `array<T>` or `map<T>`. Formats (int32, double, durations) are not part of it: they are bounds, not types. */
export type FieldType = string;

export interface IstioField {
  path: string;
  type: FieldType;
  deprecated?: true;
}

export interface SchemaField {
  path: string;
  type: FieldType;
  description?: string;
}

export function fieldType(node: SchemaNode): FieldType {
  if (node['x-kubernetes-int-or-string']) return 'int-or-string';
  if (node.type === 'array') return `array<${node.items ? fieldType(node.items) : 'unknown'}>`;
  if (typeof node.additionalProperties === 'object') return `map<${fieldType(node.additionalProperties)}>`;
  return node.type ?? 'unknown';
}

/** Every field under `root` (root itself excluded), depth first in property order. */
export function schemaFields(root: SchemaNode): SchemaField[] {
  const out: SchemaField[] = [];
  const visit = (node: SchemaNode, path: string): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const childPath = path ? `${path}.${name}` : name;
      out.push({ path: childPath, type: fieldType(child), ...(child.description ? { description: child.description } : {}) });
      descend(child, childPath);
    }
  };
  const descend = (node: SchemaNode, path: string): void => {
    visit(node, path);
    if (node.items) descend(node.items, `${path}[]`);
    if (typeof node.additionalProperties === 'object') descend(node.additionalProperties, `${path}{}`);
  };
  descend(root, '');
  return out;
}
