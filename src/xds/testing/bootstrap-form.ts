// Test helper: an Envoy bootstrap as Envoy reads it (`--config-yaml`, the proto3 JSON mapping) in the object form
// protobufjs and proto-check.ts take, for checking bootstraps against Envoy's real protos.

/**
 * Envoy reads `--config-yaml` with the proto3 JSON mapping ("5s" for a Duration, a bare bool for a BoolValue);
 * the checker takes protobufjs's object form. Converts the mapping's forms the bootstrap uses.
 */
export function bootstrapObjectForm(value: unknown): unknown {
  if (typeof value === 'string' && /^\d+s$/.test(value)) return { seconds: Number(value.slice(0, -1)) };
  if (Array.isArray(value)) return value.map(bootstrapObjectForm);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (k === 'pass_through_mode') return [k, { value: v }]; // a BoolValue
        if (k === 'metadata') return [k, { fields: Object.fromEntries(Object.entries(v as object).map(([f, s]) => [f, { stringValue: s }])) }]; // a Struct (protobufjs spells its own google.protobuf types in camelCase)
        return [k, bootstrapObjectForm(v)];
      }),
    );
  }
  return value;
}

