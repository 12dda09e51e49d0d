// The replicas' sync summaries in the API server: one ConfigMap per replica in the operator namespace,
// `weft-sync-<replica>`, labelled weft.dev/sync-summary, its summary gzipped in binaryData. Every replica writes its
// own (only when it changed, at most every `minIntervalMs`; unchanged, every `heartbeatMs` as a heartbeat) and
// deletes it on a graceful stop; the leader reads the others' and deletes those gone stale (a killed replica's).
// A summary older than `staleAfterMs` counts for nothing: its replica's proxies have reconnected elsewhere.
import type { KubeObject, Manager, Runnable } from '../../controllers/index.js';
import { apply, isNotFound, resourcePath, resources } from '../../controllers/index.js';
import type { Informer } from '../../controllers/index.js';
import { decodeSummary, encodeSummary, sameSummary, type ReplicaSummary, type SummaryJson } from './summary.js';

export const SUMMARY_LABEL = 'weft.dev/sync-summary';
export const REPLICA_ANNOTATION = 'weft.dev/replica';
export const HEARTBEAT_ANNOTATION = 'weft.dev/heartbeat';
export const SUMMARY_KEY = 'summary.json.gz';

export interface SummaryTiming {
  /** At most one write per replica in this interval. */
  minIntervalMs: number;
  /** An unchanged summary is rewritten this often, so readers can tell a live replica from a killed one. */
  heartbeatMs: number;
  /** Summaries whose heartbeat is older are ignored (and deleted by the leader). */
  staleAfterMs: number;
}

export const DEFAULT_SUMMARY_TIMING: SummaryTiming = { minIntervalMs: 2_000, heartbeatMs: 10_000, staleAfterMs: 30_000 };

export interface SummaryConfigMap extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']>;
  binaryData?: Record<string, string>;
}

/** A DNS-1123 name for a replica's ConfigMap: its identity lower-cased, other characters as '-', at most 253. */
export function summaryName(replica: string): string {
  const safe = replica.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `weft-sync-${safe}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}

/** The summary a ConfigMap holds, undefined (with the reason) when it holds none that can be read. */
export function readSummaryConfigMap(cm: SummaryConfigMap): { summary: ReplicaSummary } | { error: string } {
  const data = cm.binaryData?.[SUMMARY_KEY];
  if (!data) return { error: `ConfigMap ${cm.metadata.name} has no binaryData.${SUMMARY_KEY}` };
  try {
    return { summary: decodeSummary(Buffer.from(data, 'base64')) };
  } catch (err) {
    return { error: `ConfigMap ${cm.metadata.name}: ${(err as Error).message}` };
  }
}

/** Whether a summary's heartbeat is recent enough to count. */
export function isLive(cm: SummaryConfigMap, nowMs: number, staleAfterMs: number): boolean {
  const heartbeat = Date.parse(cm.metadata.annotations?.[HEARTBEAT_ANNOTATION] ?? '');
  return Number.isFinite(heartbeat) && nowMs - heartbeat < staleAfterMs;
}

/** The other replicas' live summaries, decoded once per resourceVersion. */
export class ReplicaSummaries {
  private readonly decoded = new Map<string, { resourceVersion: string; summary: ReplicaSummary | undefined }>();
  private liveSet = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly informer: Informer<SummaryConfigMap>,
    private readonly self: string,
    private readonly timing: SummaryTiming,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Calls `changed` when another replica's summary changes or a replica goes stale (checked every few seconds).
   * This replica's own writes are no news: taken for one, each heartbeat recomputed the whole sync status, in the
   * middle of a connect storm too.
   */
  watch(changed: () => void): () => void {
    const other = (cm: SummaryConfigMap) => cm.metadata.annotations?.[REPLICA_ANNOTATION] !== this.self;
    const off = this.informer.on({
      onAdd: (cm) => other(cm) && changed(),
      onUpdate: (_old, cm) => other(cm) && changed(),
      onDelete: (cm) => other(cm) && changed(),
    });
    this.timer = setInterval(() => {
      const set = this.live().map((s) => s.replica).join(',');
      if (set !== this.liveSet) changed();
      this.liveSet = set;
    }, Math.min(5_000, this.timing.staleAfterMs / 3));
    this.timer.unref();
    return () => {
      off();
      clearInterval(this.timer);
    };
  }

  /** Live summaries of replicas other than this one, by replica name. */
  live(): ReplicaSummary[] {
    const out: ReplicaSummary[] = [];
    const seen = new Set<string>();
    for (const cm of this.informer.list()) {
      const name = cm.metadata.name!;
      seen.add(name);
      if (cm.metadata.annotations?.[REPLICA_ANNOTATION] === this.self || !isLive(cm, this.now(), this.timing.staleAfterMs)) continue;
      let entry = this.decoded.get(name);
      if (!entry || entry.resourceVersion !== cm.metadata.resourceVersion) {
        const read = readSummaryConfigMap(cm);
        entry = { resourceVersion: cm.metadata.resourceVersion ?? '', summary: 'summary' in read ? read.summary : undefined };
        this.decoded.set(name, entry);
      }
      if (entry.summary) out.push(entry.summary);
    }
    for (const name of this.decoded.keys()) if (!seen.has(name)) this.decoded.delete(name);
    return out.sort((a, b) => a.replica.localeCompare(b.replica));
  }

  /** ConfigMaps whose heartbeat stopped long ago (three stale periods): the leader deletes them. */
  abandoned(): SummaryConfigMap[] {
    return this.informer.list().filter((cm) => !isLive(cm, this.now(), this.timing.staleAfterMs * 3));
  }
}

export function summaryInformer(manager: Manager, namespace: string): Informer<SummaryConfigMap> {
  return manager.informer<SummaryConfigMap>({ resource: resources.configMaps, namespace, labelSelector: `${SUMMARY_LABEL}=true` });
}

/**
 * Writes this replica's summary: `build` is called at most every minIntervalMs; the ConfigMap is written when the
 * summary (heartbeat aside) differs from the last one written, or the heartbeat is due. While `moving` says the
 * summary is about to change again (proxies connecting by the thousand), nothing is built: a heartbeat due then
 * rewrites the last summary under a new heartbeat annotation, until that summary is staleAfterMs old (then one is
 * built, moving or not). Deleted on stop.
 */
export class SummaryPublisher implements Runnable {
  readonly needLeaderElection = false;
  private lastWritten: SummaryJson | undefined;
  /** The last summary written, encoded, and when it was built (epoch ms): a heartbeat while proxies move repeats it. */
  private lastEncoded: { bytes: Buffer; builtMs: number } | undefined;
  /** When the summary was last written, or the publisher started (epoch ms). */
  private lastWriteMs = 0;
  /** Writes done (for the rate measurement in docs/xds.md). */
  writes = 0;

  constructor(
    private readonly manager: Pick<Manager, 'client' | 'log' | 'isLeader'>,
    private readonly namespace: string,
    private readonly replica: string,
    private readonly build: () => SummaryJson | undefined | Promise<SummaryJson | undefined>,
    private readonly timing: SummaryTiming = DEFAULT_SUMMARY_TIMING,
    private readonly others?: ReplicaSummaries,
    private readonly moving: () => boolean = () => false,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    this.lastWriteMs = Date.now();
    while (!signal.aborted) {
      await this.tick(Date.now()).catch((err: unknown) => this.manager.log.warn({ err }, 'writing the xDS sync summary failed (retrying)'));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.timing.minIntervalMs);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
    await this.remove().catch((err: unknown) => this.manager.log.warn({ err }, 'deleting the xDS sync summary failed: readers drop it once stale'));
  }

  /** One round: write if changed or the heartbeat is due; the leader also deletes abandoned summaries. */
  async tick(nowMs: number): Promise<boolean> {
    const heartbeatDue = nowMs - this.lastWriteMs >= this.timing.heartbeatMs;
    const moving = this.moving();
    if (moving && !heartbeatDue) return false;
    // Building visits every proxy's every type (half a second of a 5000-proxy connect storm): while they move, the
    // heartbeat alone tells readers this replica lives, and the summary waits for them to stand still.
    const repeat = moving ? this.lastEncoded : undefined;
    let due: boolean;
    if (repeat && nowMs - repeat.builtMs < this.timing.staleAfterMs) {
      await this.write(nowMs, repeat.bytes);
      due = true;
    } else due = await this.buildAndWrite(nowMs, heartbeatDue);
    if (this.others && this.manager.isLeader()) {
      for (const cm of this.others.abandoned()) await this.delete(cm.metadata.name!);
    }
    return due;
  }

  /** Builds the summary and writes it when it changed or `force`; returns whether it wrote. */
  private async buildAndWrite(nowMs: number, force: boolean): Promise<boolean> {
    const built = await this.build();
    if (!built) return false;
    if (!force && sameSummary(this.lastWritten, built)) return false;
    const bytes = await encodeSummary(this.replica, new Date(nowMs).toISOString(), built);
    await this.write(nowMs, bytes);
    this.lastWritten = built;
    this.lastEncoded = { bytes, builtMs: nowMs };
    return true;
  }

  /** Writes the ConfigMap: `encoded` (which names the heartbeat of its build) under a heartbeat of `nowMs`. */
  private async write(nowMs: number, encoded: Buffer): Promise<void> {
    const heartbeat = new Date(nowMs).toISOString();
    await apply(this.manager.client, resources.configMaps, this.configMap(heartbeat, encoded), { fieldManager: 'weft-sync-summary' });
    this.lastWriteMs = nowMs;
    this.writes++;
  }

  private configMap(heartbeat: string, encoded: Buffer): SummaryConfigMap {
    return {
      metadata: {
        name: summaryName(this.replica),
        namespace: this.namespace,
        labels: { [SUMMARY_LABEL]: 'true', 'app.kubernetes.io/part-of': 'weft' },
        annotations: { [REPLICA_ANNOTATION]: this.replica, [HEARTBEAT_ANNOTATION]: heartbeat },
      },
      binaryData: { [SUMMARY_KEY]: encoded.toString('base64') },
    };
  }

  private async remove(): Promise<void> {
    await this.delete(summaryName(this.replica));
  }

  private async delete(name: string): Promise<void> {
    try {
      await this.manager.client.send('DELETE', resourcePath(resources.configMaps, { namespace: this.namespace, name }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
