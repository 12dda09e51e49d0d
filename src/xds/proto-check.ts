// A strict schema check for generated messages: protobufjs silently drops unknown fields and coerces values, so
// a misspelt field would vanish from the config instead of failing. This walks a message against the real Envoy
// descriptors (unknown fields, enum names, oneof exclusivity, nested Any types) and applies the protoc-gen-validate
// rules a control plane should respect (required, min_len, min_items, numeric bounds). gRPC does not enforce PGV;
// Envoy does, so Envoy-bound config must pass.
import protobuf from 'protobufjs';
import { envoyRootWithOptions } from './protos.js';
import type { ProtoMessage, ProtoValue } from './resource.js';

const SCALARS = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'bool', 'string', 'bytes']);

/** Problems found in `message` as a `typeName` (full name or type URL); empty when it is valid. */
export function checkMessage(typeName: string, message: ProtoMessage): string[] {
  const problems: string[] = [];
  const name = typeName.slice(typeName.lastIndexOf('/') + 1);
  walk(envoyRootWithOptions().lookupType(name), message, name, problems);
  return problems;
}

function isMessage(value: ProtoValue): value is ProtoMessage {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function walk(type: protobuf.Type, message: ProtoMessage, path: string, problems: string[]): void {
  if (type.fullName === '.google.protobuf.Any') {
    const typeUrl = message['@type'];
    if (typeof typeUrl !== 'string') return void problems.push(`${path}: Any without @type`);
    const inner = envoyRootWithOptions().lookup(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
    if (!(inner instanceof protobuf.Type)) return void problems.push(`${path}: unknown @type ${typeUrl}`);
    const { '@type': _, ...rest } = message;
    return walk(inner, rest, `${path}<${inner.name}>`, problems);
  }
  for (const [key, value] of Object.entries(message)) {
    if (value === undefined) continue;
    const field = type.fields[key];
    if (!field) {
      problems.push(`${path}.${key}: no such field in ${type.fullName.slice(1)}`);
      continue;
    }
    checkField(field, value, `${path}.${key}`, problems);
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((name) => message[name] !== undefined);
    if (set.length > 1) problems.push(`${path}: oneof ${oneof.name} has ${set.join(' and ')} set`);
    if (set.length === 0 && oneof.options?.['(validate.required)'] === true) problems.push(`${path}: oneof ${oneof.name} is required`);
  }
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (value === undefined && field.partOf) continue; // rules of an unset oneof member do not apply
    const rules = field.options ?? {};
    if (rules['(validate.rules).message.required'] === true && value === undefined) problems.push(`${path}.${field.name}: required`);
    // An unset string or list is empty on the wire (proto3), so the bound applies to it as to "" or [].
    const minLen = rules['(validate.rules).string.min_len'];
    if (typeof minLen === 'number' && (value === undefined || typeof value === 'string') && (value ?? '').length < minLen) {
      problems.push(`${path}.${field.name}: must have at least ${minLen} character(s)`);
    }
    const minItems = rules['(validate.rules).repeated.min_items'];
    if (typeof minItems === 'number' && (value === undefined || Array.isArray(value)) && (value ?? []).length < minItems) {
      problems.push(`${path}.${field.name}: must have at least ${minItems} item(s)`);
    }
  }
}

function checkField(field: protobuf.Field, value: ProtoValue, path: string, problems: string[]): void {
  if (field.map) {
    if (!isMessage(value)) return void problems.push(`${path}: expected a map`);
    for (const [k, v] of Object.entries(value)) if (v !== undefined) checkSingle(field, v, `${path}[${k}]`, problems);
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return void problems.push(`${path}: expected a list`);
    value.forEach((v, i) => checkSingle(field, v, `${path}[${i}]`, problems));
    return;
  }
  checkSingle(field, value, path, problems);
}

function checkSingle(field: protobuf.Field, value: ProtoValue, path: string, problems: string[]): void {
  if (SCALARS.has(field.type)) return checkScalar(field, value, path, problems);
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' ? !(value in resolved.values) : typeof value !== 'number') {
      problems.push(`${path}: ${String(value)} is not a value of ${resolved.name}`);
    }
    return;
  }
  if (resolved instanceof protobuf.Type) {
    if (!isMessage(value)) return void problems.push(`${path}: expected a ${resolved.name} message`);
    walk(resolved, value, path, problems);
  }
}

function checkScalar(field: protobuf.Field, value: ProtoValue, path: string, problems: string[]): void {
  const kind = field.type;
  if (kind === 'string' && typeof value !== 'string') return void problems.push(`${path}: expected a string`);
  if (kind === 'bool' && typeof value !== 'boolean') return void problems.push(`${path}: expected a boolean`);
  if (kind === 'bytes' && !(value instanceof Uint8Array) && typeof value !== 'string') return void problems.push(`${path}: expected bytes`);
  if (kind !== 'string' && kind !== 'bool' && kind !== 'bytes') {
    if (typeof value !== 'number' && typeof value !== 'string') return void problems.push(`${path}: expected a number`);
    const n = Number(value);
    const rules = field.options ?? {};
    for (const [suffix, ok] of [
      ['gt', (b: number) => n > b],
      ['gte', (b: number) => n >= b],
      ['lt', (b: number) => n < b],
      ['lte', (b: number) => n <= b],
    ] as const) {
      const bound = rules[`(validate.rules).${kind}.${suffix}`];
      if (typeof bound === 'number' && !ok(bound)) problems.push(`${path}: ${n} violates ${suffix} ${bound}`);
    }
  }
}
