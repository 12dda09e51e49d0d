// `kubectl weft config-dump` through the API server: the CLI creates a request ConfigMap in the operator namespace
// (labelled weft.dev/config-dump-request, data.proxy = a node id or <namespace>/<pod>); the replica serving that
// proxy answers into the same ConfigMap (binaryData dump.json.gz, annotation weft.dev/answered-by); the CLI reads
// it and deletes it. The dump is what the proxy ACKed (the very resources, not a recomputation), each with the mesh
// objects it came from. Private keys never leave the replica: SDS secrets' keys are redacted before writing.
import { gzipSync } from 'node:zlib';
import type { Informer, KubeObject, Manager, Runnable } from '../../controllers/index.js';
import { apply, isNotFound, resourcePath, resources } from '../../controllers/index.js';
import { messageType } from '../protos.js';
import type { SourceRef, XdsResource } from '../resource.js';
import type { ConnectedProxy } from '../server/stream.js';
import { proxySummary, TYPE_NAMES, MAX_ENCODED_BYTES, type ProxySummary } from './summary.js';

export const DUMP_REQUEST_LABEL = 'weft.dev/config-dump-request';
export const ANSWERED_BY_ANNOTATION = 'weft.dev/answered-by';
export const DUMP_KEY = 'dump.json.gz';
/** Requests nobody collected are deleted by the leader after this long. */
export const DUMP_REQUEST_TTL_MS = 10 * 60_000;

export type HeldState = 'ACKED' | 'STALE' | 'NACKED';

export interface DumpedResource {
  type: string;
  name: string;
  /** ACKED: the proxy holds the version served now. STALE: it holds an older one, or none yet. NACKED: it rejected the one served now. */
  state: HeldState;
  /** The version the proxy holds ('' for none), and the one served now. */
  heldVersion: string;
  servedVersion: string;
  nack?: string;
  sources: SourceRef[];
  /** The resource the proxy holds (else the one served), as JSON; private keys redacted. */
  config?: unknown;
}

export interface ConfigDump {
  replica: string;
  proxy: ProxySummary;
  resources: DumpedResource[];
  /** Set when the configs were left out to fit the ConfigMap. */
  configsOmitted?: boolean;
}

export interface DumpRequest extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']>;
  data?: { proxy?: string };
  binaryData?: Record<string, string>;
}

const REDACTED = '[redacted]';
const SECRET_FIELDS = new Set(['private_key', 'privateKey', 'session_ticket_keys', 'sessionTicketKeys', 'password', 'generic_secret', 'genericSecret']);

/** `value` with every private-key-like field replaced: what a dump may print. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? REDACTED : redactSecrets(v)]));
  }
  return value;
}

function asJson(r: XdsResource): unknown {
  const type = messageType(r.typeUrl);
  const any = messageType('google.protobuf.Any').decode(r.any) as unknown as { value: Uint8Array };
  return redactSecrets(type.toObject(type.decode(any.value), { enums: String, longs: String, json: true }));
}

/** Whether `query` (a node id, or `<namespace>/<pod>`) names this proxy. */
export function matchesProxy(p: ProxySummary, query: string): boolean {
  if (p.id === query) return true;
  const slash = query.indexOf('/');
  if (slash > 0) return p.namespace === query.slice(0, slash) && p.pod === query.slice(slash + 1);
  return p.pod === query;
}

/** What `p` holds, per type: each resource it subscribes to (or holds), with its sources. */
export function configDump(p: ConnectedProxy, replica: string, summary: ProxySummary): ConfigDump {
  const out: DumpedResource[] = [];
  for (const [typeUrl, state] of p.types) {
    const view = p.view;
    const names = new Set<string>(state.acked.keys());
    if (view) {
      for (const r of state.wanted(view)) names.add(r.name);
    }
    for (const name of [...names].sort()) {
      const held = state.acked.get(name);
      const served = view?.get(typeUrl, name);
      const rejected = state.rejected.get(name);
      const nacked = rejected !== undefined && rejected.version === served?.version;
      const shown = held ?? served!;
      out.push({
        type: TYPE_NAMES[typeUrl] ?? typeUrl,
        name,
        state: nacked ? 'NACKED' : held && served && held.version === served.version ? 'ACKED' : 'STALE',
        heldVersion: held?.version ?? '',
        servedVersion: served?.version ?? '',
        ...(nacked ? { nack: rejected.error } : {}),
        sources: [...shown.sources],
        config: asJson(shown),
      });
    }
  }
  return { replica, proxy: summary, resources: out };
}

/** The dump gzipped, within the ConfigMap bound: configs are dropped (names, states and sources stay) if too big. */
export function encodeDump(dump: ConfigDump): Buffer {
  const full = gzipSync(JSON.stringify(dump));
  if (full.length <= MAX_ENCODED_BYTES) return full;
  return gzipSync(JSON.stringify({ ...dump, configsOmitted: true, resources: dump.resources.map(({ config: _config, ...rest }) => rest) }));
}

export function dumpRequestInformer(manager: Manager, namespace: string): Informer<DumpRequest> {
  return manager.informer<DumpRequest>({ resource: resources.configMaps, namespace, labelSelector: `${DUMP_REQUEST_LABEL}=true` });
}

/** Answers dump requests for the proxies connected to this replica (every replica runs one). */
export class DumpResponder implements Runnable {
  readonly needLeaderElection = false;

  constructor(
    private readonly manager: Pick<Manager, 'client' | 'log' | 'isLeader'>,
    private readonly requests: Informer<DumpRequest>,
    private readonly replica: string,
    private readonly proxies: () => Iterable<ConnectedProxy>,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    const answer = (req: DumpRequest) => void this.answer(req).catch((err: unknown) => this.manager.log.warn({ err, request: req.metadata.name }, 'answering a config dump request failed'));
    const off = this.requests.on({ onAdd: answer, onUpdate: (_old, req) => answer(req) });
    const sweep = setInterval(() => void this.sweep().catch(() => undefined), 60_000);
    sweep.unref();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    off();
    clearInterval(sweep);
  }

  private async answer(req: DumpRequest): Promise<void> {
    const query = req.data?.proxy;
    if (!query || req.metadata.annotations?.[ANSWERED_BY_ANNOTATION]) return;
    for (const p of this.proxies()) {
      const summary = proxySummary(p);
      if (!summary || !matchesProxy(summary, query)) continue;
      const dump = encodeDump(configDump(p, this.replica, summary));
      await apply(
        this.manager.client,
        resources.configMaps,
        {
          metadata: { name: req.metadata.name!, namespace: req.metadata.namespace!, annotations: { [ANSWERED_BY_ANNOTATION]: this.replica } },
          binaryData: { [DUMP_KEY]: dump.toString('base64') },
        } as DumpRequest,
        { fieldManager: `weft-config-dump` },
      );
      return;
    }
  }

  /** The leader deletes requests no CLI collected (it was interrupted). */
  private async sweep(): Promise<void> {
    if (!this.manager.isLeader()) return;
    for (const req of this.requests.list()) {
      const created = Date.parse(req.metadata.creationTimestamp ?? '');
      if (!Number.isFinite(created) || Date.now() - created < DUMP_REQUEST_TTL_MS) continue;
      try {
        await this.manager.client.send('DELETE', resourcePath(resources.configMaps, { namespace: req.metadata.namespace!, name: req.metadata.name! }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
