// Turns TypeBox schemas into Kubernetes structural OpenAPI v3 (the `openAPIV3Schema` of a CRD) and checks that a
// schema is structural. TypeBox speaks full JSON Schema; the API server accepts only a subset of it, so the
// conversion is an allow-list: every keyword is either copied, rewritten into its Kubernetes form, or refused
// with the path where it appeared. Nothing is silently dropped except TypeBox's own non-JSON bookkeeping.

/** The JSON form of a Kubernetes `JSONSchemaProps` as Weft emits it. */
export interface JSONSchemaProps {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  enum?: Array<string | number>;
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: JSONSchemaProps[];
  items?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  required?: string[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-embedded-resource'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** A CEL rule (`x-kubernetes-validations` entry). */
export interface ValidationRule {
  rule: string;
  message: string;
  messageExpression?: string;
  /** Relative JSON path (e.g. `.route`) of the field the error is reported on. */
  fieldPath?: string;
  /**
   * How the API server phrases the error. FieldValueDuplicate drops `message` (the server prints only "Duplicate
   * value"), so rules about duplicates keep the default FieldValueInvalid.
   */
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';
  optionalOldSelf?: boolean;
}

/** Keywords in the order they are emitted; anything not listed here is refused. */
const KEYWORD_ORDER = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'anyOf',
  'items',
  'properties',
  'additionalProperties',
  'required',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const satisfies ReadonlyArray<keyof JSONSchemaProps>;

const RULE_ORDER = ['rule', 'message', 'messageExpression', 'fieldPath', 'reason', 'optionalOldSelf'] as const;

/** TypeBox writes `Type.Record(Type.String(), V)` as this pattern; Kubernetes wants `additionalProperties: V`. */
const ANY_KEY_PATTERN = '^.*$';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Converts a TypeBox (JSON Schema) tree into structural Kubernetes OpenAPI v3: `patternProperties` with the any-key
 * pattern becomes `additionalProperties`, a string `enum` gets `type: string`, empty `required` lists go, and keys
 * come out in one fixed order so the generated YAML is deterministic. Throws on any keyword the API server would
 * reject or prune, naming the path.
 */
export function toStructural(schema: unknown, path = '<root>'): JSONSchemaProps {
  if (!isRecord(schema)) throw new Error(`${path}: a schema must be an object`);
  const source: Json = { ...schema };

  if (source.patternProperties !== undefined) {
    const patterns = source.patternProperties;
    if (!isRecord(patterns) || Object.keys(patterns).length !== 1 || !(ANY_KEY_PATTERN in patterns)) {
      throw new Error(`${path}: patternProperties is not allowed in a CRD schema (only string-keyed maps are supported)`);
    }
    source.additionalProperties = patterns[ANY_KEY_PATTERN];
    delete source.patternProperties;
  }
  if (source.additionalProperties === false || source.additionalProperties === true) {
    // Kubernetes refuses `false` and prunes unknown fields anyway; `true` is spelled preserve-unknown-fields.
    if (source.additionalProperties === true) source['x-kubernetes-preserve-unknown-fields'] = true;
    delete source.additionalProperties;
  }
  if (Array.isArray(source.required) && source.required.length === 0) delete source.required;
  if (Array.isArray(source.enum) && source.type === undefined) {
    const values = source.enum as unknown[];
    if (values.every((v) => typeof v === 'string')) source.type = 'string';
    else if (values.every((v) => Number.isInteger(v))) source.type = 'integer';
  }

  for (const key of Object.keys(source)) {
    if (!(KEYWORD_ORDER as readonly string[]).includes(key)) {
      throw new Error(`${path}: keyword ${JSON.stringify(key)} is not allowed in a Kubernetes structural schema`);
    }
  }

  const out: Json = {};
  for (const key of KEYWORD_ORDER) {
    const value = source[key];
    if (value === undefined) continue;
    switch (key) {
      case 'properties': {
        if (!isRecord(value)) throw new Error(`${path}: properties must be an object`);
        const props: Record<string, JSONSchemaProps> = {};
        for (const [name, child] of Object.entries(value)) props[name] = toStructural(child, `${path}.${name}`);
        out.properties = props;
        break;
      }
      case 'items':
        out.items = toStructural(value, `${path}[*]`);
        break;
      case 'additionalProperties':
        out.additionalProperties = toStructural(value, `${path}[*]`);
        break;
      case 'anyOf':
        if (!Array.isArray(value)) throw new Error(`${path}: anyOf must be a list`);
        out.anyOf = value.map((branch, i) => toStructural(branch, `${path}.anyOf[${i}]`));
        break;
      case 'x-kubernetes-validations':
        if (!Array.isArray(value)) throw new Error(`${path}: x-kubernetes-validations must be a list`);
        out[key] = value.map((rule) => orderRule(rule, path));
        break;
      default:
        out[key] = value;
    }
  }
  const result = out as JSONSchemaProps;
  const problems = structuralProblems(result, path, false);
  if (problems.length > 0) throw new Error(`schema is not structural:\n  ${problems.join('\n  ')}`);
  return result;
}

function orderRule(rule: unknown, path: string): ValidationRule {
  if (!isRecord(rule)) throw new Error(`${path}: a validation rule must be an object`);
  const out: Json = {};
  for (const key of RULE_ORDER) if (rule[key] !== undefined) out[key] = rule[key];
  for (const key of Object.keys(rule)) {
    if (!(RULE_ORDER as readonly string[]).includes(key)) throw new Error(`${path}: unknown validation rule key ${key}`);
  }
  return out as unknown as ValidationRule;
}

/**
 * Lists why `schema` is not a structural schema the API server accepts (empty when it is). Checks: every node has
 * a type (or is int-or-string / preserve-unknown-fields); only known keywords; anyOf only in the int-or-string form;
 * properties and additionalProperties are exclusive; arrays have items; objects say what they hold; enums match
 * their type; list-map keys exist and are required; CEL rules carry a message.
 */
export function structuralProblems(schema: unknown, path = '<root>', recurse = true): string[] {
  const problems: string[] = [];
  const walk = (node: unknown, at: string, insideAnyOf: boolean): void => {
    if (!isRecord(node)) {
      problems.push(`${at}: not a schema object`);
      return;
    }
    for (const key of Object.keys(node)) {
      if (!(KEYWORD_ORDER as readonly string[]).includes(key)) problems.push(`${at}: forbidden keyword ${key}`);
    }
    const intOrString = node['x-kubernetes-int-or-string'] === true;
    const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
    if (node.type === undefined && !intOrString && !preserve && !insideAnyOf) problems.push(`${at}: missing type`);
    if (node.type !== undefined && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(node.type as string)) {
      problems.push(`${at}: unknown type ${String(node.type)}`);
    }
    if (node.anyOf !== undefined) {
      const branches = node.anyOf;
      const ok =
        intOrString &&
        Array.isArray(branches) &&
        branches.length === 2 &&
        branches.every((b) => isRecord(b) && Object.keys(b).length === 1) &&
        (branches[0] as Json).type === 'integer' &&
        (branches[1] as Json).type === 'string';
      if (!ok) problems.push(`${at}: anyOf is only allowed as [{type: integer}, {type: string}] with x-kubernetes-int-or-string`);
    }
    if (intOrString && node.type !== undefined) problems.push(`${at}: x-kubernetes-int-or-string must not have a type`);
    if (node.properties !== undefined && node.additionalProperties !== undefined) {
      problems.push(`${at}: properties and additionalProperties are mutually exclusive`);
    }
    if (node.type === 'array' && node.items === undefined) problems.push(`${at}: array without items`);
    if (node.type !== 'array' && node.items !== undefined) problems.push(`${at}: items on a non-array`);
    // The root's `metadata: {type: object}` is the one object the API server fills in itself.
    const isRootMetadata = at === `${path}.metadata`;
    if (node.type === 'object' && node.properties === undefined && node.additionalProperties === undefined && !preserve && !isRootMetadata) {
      problems.push(`${at}: object without properties or additionalProperties would be pruned empty`);
    }
    if (node.uniqueItems === true) problems.push(`${at}: uniqueItems is forbidden`);
    if (Array.isArray(node.enum)) {
      for (const v of node.enum) {
        const fits =
          (node.type === 'string' && typeof v === 'string') ||
          (node.type === 'integer' && Number.isInteger(v)) ||
          (node.type === 'number' && typeof v === 'number');
        if (!fits) problems.push(`${at}: enum value ${JSON.stringify(v)} does not match type ${String(node.type)}`);
      }
    }
    if (Array.isArray(node.required)) {
      const props = isRecord(node.properties) ? node.properties : {};
      for (const name of node.required as unknown[]) {
        if (typeof name !== 'string' || !(name in props)) problems.push(`${at}: required field ${String(name)} is not a property`);
      }
    }
    if (node['x-kubernetes-list-type'] === 'map') {
      const keys = node['x-kubernetes-list-map-keys'];
      const item = isRecord(node.items) ? node.items : {};
      const required = Array.isArray(item.required) ? (item.required as string[]) : [];
      if (!Array.isArray(keys) || keys.length === 0) problems.push(`${at}: list-type map needs x-kubernetes-list-map-keys`);
      else for (const k of keys as string[]) if (!required.includes(k)) problems.push(`${at}: list-map key ${k} must be required`);
    }
    if (node['x-kubernetes-validations'] !== undefined) {
      const rules = node['x-kubernetes-validations'];
      if (!Array.isArray(rules)) problems.push(`${at}: x-kubernetes-validations must be a list`);
      else
        for (const r of rules) {
          if (!isRecord(r) || typeof r.rule !== 'string' || r.rule === '') problems.push(`${at}: a validation needs a rule`);
          else if (typeof r.message !== 'string' || r.message === '') problems.push(`${at}: rule ${r.rule} needs a message`);
        }
    }
    if (!recurse) return;
    if (isRecord(node.properties)) for (const [k, v] of Object.entries(node.properties)) walk(v, `${at}.${k}`, false);
    if (node.items !== undefined) walk(node.items, `${at}[*]`, false);
    if (node.additionalProperties !== undefined) {
      if (typeof node.additionalProperties === 'boolean') problems.push(`${at}: additionalProperties must be a schema`);
      else walk(node.additionalProperties, `${at}{*}`, false);
    }
    if (Array.isArray(node.anyOf)) node.anyOf.forEach((b, i) => walk(b, `${at}.anyOf[${i}]`, true));
  };
  walk(schema, path, false);
  return problems;
}
