// Which fields an object sets that Weft accepts but does not apply (yet) for some of its clients, from the registry
// in src/api/parity/applied.ts. Reported in the object's `FieldsApplied` condition: accepting a field and quietly
// ignoring it would let a user believe it is in force. Pure.
import type { ConditionUpdate } from '../controllers/index.js';
import { CLIENTS, applied, canonicalPath, type Application, type ParityKind } from '../api/parity/applied.js';

export type ClientKind = 'envoy' | 'proxyless';

export interface NotAppliedField {
  /** Where the object sets it, e.g. `spec.trafficPolicy.loadBalancer.warmup`. */
  field: string;
  clients: ClientKind[];
  reason: string;
}

const CLIENT_NAMES: Record<ClientKind, string> = { envoy: 'Envoy', proxyless: 'proxyless gRPC' };

export function isParityKind(kind: string): kind is ParityKind {
  return kind in applied;
}

/**
 * Registry entries at or under a (canonical) schema path; remembered per path, since every reconcile of every
 * object walks its spec through here (a scan of the kind's few hundred paths each time, otherwise).
 */
function entriesUnder(kind: ParityKind, path: string): Application[] {
  const key = `${kind} ${path}`;
  let entries = underMemo.get(key);
  if (entries) return entries;
  const registry = applied[kind];
  const own = registry[path];
  entries = own
    ? [own]
    : Object.entries(registry)
        .filter(([p]) => p.startsWith(`${path}.`) || p.startsWith(`${path}[]`) || p.startsWith(`${path}{}`))
        .map(([, a]) => a);
  remember(underMemo, key, entries);
  return entries;
}

// Paths below a map of strings carry the user's keys (labels, headers): the memos are bounded, not per schema.
const MAX_MEMO = 10_000;
const underMemo = new Map<string, Application[]>();
const mapMemo = new Map<string, boolean>();

function remember<V>(memo: Map<string, V>, key: string, value: V): void {
  if (memo.size >= MAX_MEMO) memo.clear();
  memo.set(key, value);
}

/** Whether `value` is one the registry says loses nothing (each element, for a list). */
function appliedAnyway(support: { appliedFor?: readonly unknown[] }, value: unknown): boolean {
  const ok = support.appliedFor;
  if (!ok) return false;
  return Array.isArray(value) ? value.every((v) => ok.includes(v)) : ok.includes(value);
}

/**
 * Why `path` (a leaf set to `value`, or an object all of whose fields are) is not applied for `client`; undefined
 * when it is (in part).
 */
function notAppliedReason(kind: ParityKind, path: string, client: ClientKind, value: unknown): string | undefined {
  const entries = entriesUnder(kind, path);
  if (entries.length === 0) return undefined; // not an Istio field (Weft's own): applied by Weft
  const reasons = entries.map((a) => a[client]);
  if (!reasons.every((s) => typeof s === 'object')) return undefined;
  const first = reasons[0] as { notYet: string; appliedFor?: readonly unknown[] };
  if (entries.length === 1 && appliedAnyway(first, value)) return undefined;
  return first.notYet;
}

function isMapOfObjects(kind: ParityKind, path: string): boolean {
  const key = `${kind} ${path}`;
  let is = mapMemo.get(key);
  if (is === undefined) remember(mapMemo, key, (is = Object.keys(applied[kind]).some((k) => k.startsWith(`${path}{}`))));
  return is;
}

/** Every field `spec` sets that is not applied for one of the kind's clients, outermost first. */
export function notAppliedFields(kind: ParityKind, spec: unknown): NotAppliedField[] {
  const out: NotAppliedField[] = [];
  const visit = (value: unknown, schemaPath: string, field: string, clients: readonly ClientKind[]): void => {
    if (value === undefined || value === null || clients.length === 0) return;
    const canonical = canonicalPath(kind, schemaPath);
    const still: ClientKind[] = [];
    const byReason = new Map<string, ClientKind[]>();
    for (const client of clients) {
      const reason = notAppliedReason(kind, canonical, client, value);
      if (reason === undefined) still.push(client);
      else byReason.set(reason, [...(byReason.get(reason) ?? []), client]);
    }
    for (const [reason, notFor] of byReason) out.push({ field, clients: notFor, reason });
    if (applied[kind][canonical]) return; // a leaf: nothing further down
    descend(value, schemaPath, field, still);
  };
  const descend = (value: unknown, schemaPath: string, field: string, clients: readonly ClientKind[]): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${schemaPath}[]`, `${field}[${i}]`, clients));
    } else if (typeof value === 'object' && value !== null) {
      const mapOfObjects = schemaPath !== '' && isMapOfObjects(kind, canonicalPath(kind, schemaPath));
      for (const [key, child] of Object.entries(value)) {
        if (mapOfObjects) visit(child, `${schemaPath}{}`, `${field}[${key}]`, clients);
        else visit(child, schemaPath ? `${schemaPath}.${key}` : key, `${field}.${key}`, clients);
      }
    }
  };
  descend(spec, '', 'spec', CLIENTS[kind]);
  return out;
}

/** At most this many fields are named in the condition's message. */
const LISTED = 20;

function clientList(clients: readonly ClientKind[]): string {
  return clients.map((c) => CLIENT_NAMES[c]).join(' and ');
}

/**
 * The `FieldsApplied` condition: True when every field set is applied for every client of the kind; False
 * `NotAppliedYet` naming each field, for which clients, and why. Advisory: it does not make Ready False (the object
 * is accepted and served; status.ts keeps it out of Ready).
 */
export function fieldsAppliedCondition(kind: ParityKind, spec: unknown): ConditionUpdate {
  const fields = notAppliedFields(kind, spec);
  if (fields.length === 0) {
    return { type: 'FieldsApplied', status: 'True', reason: 'AllApplied', message: `every field set is applied for ${clientList(CLIENTS[kind])}` };
  }
  const listed = fields.slice(0, LISTED).map((f) => `${f.field} (not applied yet for ${clientList(f.clients)}: ${f.reason})`);
  const more = fields.length > LISTED ? `; and ${fields.length - LISTED} more` : '';
  return { type: 'FieldsApplied', status: 'False', reason: 'NotAppliedYet', message: `accepted, but not applied yet: ${listed.join('; ')}${more}` };
}
