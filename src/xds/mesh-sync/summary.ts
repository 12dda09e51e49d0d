// What one replica tells the others (and `kubectl weft`) about the proxies connected to it: per proxy and type,
// SYNCED / STALE / NACKED with versions and times; per mesh object, the counts the sync status sums into
// status.proxies and Programmed. The wire form is JSON, gzipped into a ConfigMap's binaryData (summary-store.ts);
// this module is pure: build, bound, encode, decode, merge. A summary is written every few seconds with thousands
// of proxies in it, so it is made of JSON texts kept per proxy while the proxy stands still, and gzipped off the
// event loop: built whole each time, it held the loop for ~100 ms at 2000 proxies, and pushes waited behind it.
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import type { ProxyView } from '../cache.js';
import { TypeUrl } from '../protos.js';
import type { ConnectedProxy } from '../server/stream.js';
import type { TypeState } from '../server/type-state.js';
import type { ResourceSync } from '../sync-status.js';

/** The short type names proxy-status and config-dump print (istioctl's). */
export const TYPE_NAMES: Readonly<Record<string, string>> = {
  [TypeUrl.listener]: 'lds',
  [TypeUrl.route]: 'rds',
  [TypeUrl.virtualHost]: 'vhds',
  [TypeUrl.cluster]: 'cds',
  [TypeUrl.endpoint]: 'eds',
  [TypeUrl.secret]: 'sds',
};

/**
 * SYNCED: the proxy ACKed what this replica serves it now (every resource of the type it should hold). NACKED: its latest answer was a NACK (it keeps
 * its last accepted config). STALE: neither yet (a response in flight, or a push not answered).
 */
export type TypeSyncState = 'SYNCED' | 'STALE' | 'NACKED';

export interface ProxyTypeSummary {
  state: TypeSyncState;
  /** The type's version now (it moves with any change in the mesh), the version last sent, and the one last ACKed. */
  served: string;
  sent: string;
  acked: string;
  /** ISO times of the last response sent and of the last ACK. */
  sentAt?: string;
  ackedAt?: string;
  nack?: string;
}

export type ProxySummaryKind = 'sidecar' | 'proxyless' | 'gateway';

export interface ProxySummary {
  id: string;
  kind: ProxySummaryKind;
  namespace?: string;
  pod?: string;
  protocol: string;
  connectedAt: string;
  /** By short type name (lds, rds, cds, eds, sds). */
  types: Record<string, ProxyTypeSummary>;
}

/** Per mesh object (`Kind/namespace/name`): [served generation, proxies expected, proxies ACKed, rejections]. */
export type ObjectCounts = [number, number, number, Array<{ proxy: string; error: string }>?];

export interface ReplicaSummary {
  replica: string;
  /** ISO time this summary was written: older than the stale limit, the replica is taken for gone. */
  heartbeat: string;
  proxies: ProxySummary[];
  /** Proxies left out to stay within the size bound (the object counts still include them). */
  proxiesOmitted?: number;
  objects: Record<string, ObjectCounts>;
}

/** Rejections kept per object and replica: status names the first one and counts the rest. */
export const MAX_REJECTIONS_PER_OBJECT = 5;
/** A NACK message is cut to this many characters (Envoy's can run to kilobytes). */
export const MAX_NACK_CHARS = 512;
/** The encoded summary's bound: a ConfigMap holds at most 1 MiB, and its metadata needs some of it. */
export const MAX_ENCODED_BYTES = 900 * 1024;

/** `sidecar~<ip>~<pod>.<namespace>~...`: the pod's name, as Istio-style node ids carry it. */
function podOf(p: ConnectedProxy): string | undefined {
  const info = p.proxy;
  if (!info) return undefined;
  if (info.gateway) return info.gateway.pod;
  const fromId = /^[a-z]+~[^~]*~([^~.]+)\.[^~.]+~/.exec(info.id)?.[1];
  if (fromId) return fromId;
  const name = info.metadata.POD_NAME ?? info.metadata.NAME;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Whether the proxy holds, ACKed, the version served now of every resource of the type it should have. Not a
 * comparison of type versions: the type version moves with every change anywhere in the mesh, and a proxy whose
 * own resources did not change is sent nothing (and rightly stays at the version it ACKed).
 */
function holdsAll(state: TypeState, view: ProxyView | undefined): boolean {
  return view !== undefined && state.ackedVersion !== '' && state.holdsAll(view);
}

/**
 * Summaries kept per type state while its revision (any request on it), its last response and the served version
 * stand still: a summary is written every few seconds, and with thousands of proxies most did nothing since.
 */
const typeMemo = new WeakMap<TypeState, { revision: number; served: string; sentAtMs: number | undefined; summary: ProxyTypeSummary }>();

function typeState(state: TypeState, view: ProxyView | undefined): ProxyTypeSummary {
  const served = view?.version(state.typeUrl) ?? '';
  const memo = typeMemo.get(state);
  // A response sent moves sentAt (not the revision); an answer moves the revision.
  if (memo && memo.revision === state.revision && memo.served === served && memo.sentAtMs === state.sentAtMs) return memo.summary;
  const summary = typeSummary(state, view, served);
  typeMemo.set(state, { revision: state.revision, served, sentAtMs: state.sentAtMs, summary });
  return summary;
}

function typeSummary(state: TypeState, view: ProxyView | undefined, served: string): ProxyTypeSummary {
  const synced = holdsAll(state, view);
  const result: ProxyTypeSummary = {
    state: state.lastRejection ? 'NACKED' : synced ? 'SYNCED' : 'STALE',
    served,
    sent: state.sentVersion,
    acked: state.ackedVersion,
  };
  if (state.sentAtMs !== undefined) result.sentAt = new Date(state.sentAtMs).toISOString();
  if (state.ackedAtMs !== undefined) result.ackedAt = new Date(state.ackedAtMs).toISOString();
  if (state.lastRejection) result.nack = state.lastRejection.error.slice(0, MAX_NACK_CHARS);
  return result;
}

/** One connected proxy's state; undefined before its first request names it. */
export function proxySummary(p: ConnectedProxy): ProxySummary | undefined {
  if (!p.proxy) return undefined;
  const types: Record<string, ProxyTypeSummary> = {};
  for (const [typeUrl, state] of p.types) types[TYPE_NAMES[typeUrl] ?? typeUrl] = typeState(state, p.view);
  const pod = podOf(p);
  return {
    id: p.proxy.id,
    kind: p.proxy.kind === 'envoy' ? 'sidecar' : p.proxy.kind,
    ...(p.proxy.namespace ? { namespace: p.proxy.namespace } : {}),
    ...(pod ? { pod } : {}),
    protocol: p.protocol,
    connectedAt: p.connectedAt.toISOString(),
    types,
  };
}

export function objectCounts(sync: ReadonlyMap<string, ResourceSync>): Record<string, ObjectCounts> {
  const out: Record<string, ObjectCounts> = {};
  for (const [key, s] of sync) {
    const rejections = s.rejections.slice(0, MAX_REJECTIONS_PER_OBJECT).map((r) => ({ proxy: r.proxy, error: r.error.slice(0, MAX_NACK_CHARS) }));
    out[key] = rejections.length > 0 ? [s.servedGeneration, s.expected, s.acked, rejections] : [s.servedGeneration, s.expected, s.acked];
  }
  return out;
}

/** What a replica publishes, as JSON texts: each proxy's summary, and the object counts. */
export interface SummaryJson {
  proxies: readonly string[];
  objects: string;
}

const proxyJsonMemo = new WeakMap<ConnectedProxy, { types: ProxyTypeSummary[]; json: string }>();

/** proxySummary as JSON, the same text while none of its types' summaries moved (they are memoized too). */
export function proxySummaryJson(p: ConnectedProxy): string | undefined {
  if (!p.proxy) return undefined;
  const types = [...p.types.values()].map((state) => typeState(state, p.view));
  const memo = proxyJsonMemo.get(p);
  if (memo && memo.types.length === types.length && memo.types.every((t, i) => t === types[i])) return memo.json;
  const json = JSON.stringify(proxySummary(p));
  proxyJsonMemo.set(p, { types, json });
  return json;
}

/** The longest proxiesJson holds the event loop at once (ms). */
const JSON_SLICE_MS = 10;

/**
 * Every proxy's summary JSON, a slice of the event loop at a time: after a push every proxy's texts are made anew
 * (2000 proxies, some 60 ms), and a push or an ACK waiting behind them all at once waited that long.
 */
export async function proxiesJson(proxies: readonly ConnectedProxy[], sliceMs = JSON_SLICE_MS): Promise<string[]> {
  const out: string[] = [];
  let deadline = performance.now() + sliceMs;
  for (let i = 0; i < proxies.length; i++) {
    const json = proxySummaryJson(proxies[i]!);
    if (json !== undefined) out.push(json);
    // The clock is read every few proxies only: one takes microseconds.
    if (i % 16 === 15 && performance.now() > deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + sliceMs;
    }
  }
  return out;
}

const countsJsonMemo = new WeakMap<ReadonlyMap<string, ResourceSync>, string>();

/** objectCounts as JSON, once per sync computation (each makes a new map). */
export function objectCountsJson(sync: ReadonlyMap<string, ResourceSync>): string {
  let json = countsJsonMemo.get(sync);
  if (json === undefined) countsJsonMemo.set(sync, (json = JSON.stringify(objectCounts(sync))));
  return json;
}

/** Whether two summaries say the same (their texts are the memoized ones: comparing them is mostly comparing references). */
export function sameSummary(a: SummaryJson | undefined, b: SummaryJson): boolean {
  return a !== undefined && a.objects === b.objects && a.proxies.length === b.proxies.length && a.proxies.every((p, i) => p === b.proxies[i]);
}

/** The ReplicaSummary JSON with the first `kept` proxies. */
function summaryText(replica: string, heartbeat: string, content: SummaryJson, kept: number): string {
  const omitted = content.proxies.length - kept;
  const head = `{"replica":${JSON.stringify(replica)},"heartbeat":${JSON.stringify(heartbeat)}`;
  return `${head},"proxies":[${content.proxies.slice(0, kept).join(',')}]${omitted > 0 ? `,"proxiesOmitted":${omitted}` : ''},"objects":${content.objects}}`;
}

const gzipAsync = promisify(gzip);

/**
 * The summary as gzipped JSON, within MAX_ENCODED_BYTES: when the proxies do not fit, the list is cut (the object
 * counts, which status needs, always stay) and `proxiesOmitted` says how many are missing.
 */
export async function encodeSummary(replica: string, heartbeat: string, content: SummaryJson, maxBytes = MAX_ENCODED_BYTES): Promise<Buffer> {
  let kept = content.proxies.length;
  let encoded = await gzipAsync(summaryText(replica, heartbeat, content, kept));
  while (encoded.length > maxBytes && kept > 0) {
    kept = Math.floor((kept * maxBytes) / encoded.length / 1.1);
    encoded = await gzipAsync(summaryText(replica, heartbeat, content, kept));
  }
  return encoded;
}

export function decodeSummary(bytes: Buffer): ReplicaSummary {
  const parsed = JSON.parse(gunzipSync(bytes).toString('utf8')) as ReplicaSummary;
  if (typeof parsed.replica !== 'string' || !Array.isArray(parsed.proxies) || typeof parsed.objects !== 'object') {
    throw new Error('not a Weft replica sync summary (replica, proxies, objects)');
  }
  return parsed;
}

/**
 * The mesh-wide sync state of each object from every live replica's counts: proxies expected add up; ACKs count
 * only from replicas that serve the newest generation any replica serves (a replica whose informers lag has
 * proxies holding the older one); rejections are listed from all.
 */
export function mergeCounts(parts: Iterable<ReadonlyMap<string, ResourceSync>>): Map<string, ResourceSync> {
  const all = [...parts];
  const out = new Map<string, ResourceSync>();
  for (const part of all) {
    for (const [key, s] of part) {
      const e = out.get(key);
      if (!e) out.set(key, { servedGeneration: s.servedGeneration, expected: 0, acked: 0, rejections: [] });
      else e.servedGeneration = Math.max(e.servedGeneration, s.servedGeneration);
    }
  }
  for (const part of all) {
    for (const [key, s] of part) {
      const e = out.get(key)!;
      e.expected += s.expected;
      if (s.servedGeneration === e.servedGeneration) e.acked += s.acked;
      e.rejections.push(...s.rejections);
    }
  }
  return out;
}

/** A replica summary's counts in the form computeSync gives. */
export function countsAsSync(objects: Readonly<Record<string, ObjectCounts>>): Map<string, ResourceSync> {
  const out = new Map<string, ResourceSync>();
  for (const [key, [servedGeneration, expected, acked, rejections]] of Object.entries(objects)) {
    out.set(key, { servedGeneration, expected, acked, rejections: rejections ?? [] });
  }
  return out;
}
