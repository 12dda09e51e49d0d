// Config convergence at this replica: how long from the moment a new generation of a mesh object is seen here (its
// informer event) to the moment every proxy connected here that needs config from it has ACKed that generation.
//
// Why the informer event and not metadata.managedFields' latest time: managedFields times are whole seconds
// (RFC 3339 without fractions) on the API server's clock, and a status write by the operator moves them too;
// convergence is usually well under a second, so rounding and clock skew would be most of what is measured. The
// informer event leaves out only the watch's delivery delay (milliseconds).
//
// The tracker knows nothing of how ACKs are matched to objects: it reads this replica's sync summaries (per object,
// the generation served, how many proxies should hold it, how many do, and when the last of them answered) through
// `summarize`, each time the sync status has computed them (src/xds/index.ts), while some generation waits.
import type { Informer, KubeObject } from '../controllers/index.js';
import { informersByKind, type MeshInformers } from '../mesh/state/index.js';

/** What the tracker reads of one object's sync summary. */
export interface GenerationSync {
  /** The generation of the object that the served config carries. */
  servedGeneration: number;
  /** Proxies connected here whose config comes (partly) from the object. */
  expected: number;
  /** Of those, how many hold all of it, current (ACKed). */
  acked: number;
  /** When the last of those answered (epoch ms, as `now`): the ACK that completed it, once acked = expected. */
  lastAckAt?: number;
}

/** Kinds whose content the xDS generators program (what the sync summaries cover). */
export const CONVERGING_KINDS: ReadonlySet<string> = new Set(['ServiceEntry', 'WorkloadEntry', 'VirtualService', 'DestinationRule']);

export interface ConvergenceOptions {
  /** Every object's sync summary at this replica now, by `Kind/namespace/name`. */
  summarize(): ReadonlyMap<string, GenerationSync>;
  /** A generation converged: `seconds` from when it was seen here to the last ACK it waited for. */
  onConverged(kind: string, seconds: number): void;
  /**
   * A generation that has not converged after this long is forgotten (a proxy rejected it, it is not Accepted and
   * so never served, or its spec change made no config change that a summary could show). Default 10 minutes.
   */
  maxWaitMs?: number;
  /** Injected for tests: the clock (epoch ms, as TypeState's ACK times) and how a check is put off. */
  now?: () => number;
  defer?: (fn: () => void) => void;
}

interface Waiting {
  kind: string;
  generation: number;
  seenAt: number;
}

export class ConvergenceTracker {
  private readonly waiting = new Map<string, Waiting>();
  private readonly now: () => number;
  private readonly defer: (fn: () => void) => void;
  private scheduled = false;
  /** When the last push or ACK was seen: a summary without lastAckAt ends the wait as of then. */
  private lastEventAt = 0;

  constructor(private readonly options: ConvergenceOptions) {
    this.now = options.now ?? (() => Date.now());
    this.defer = options.defer ?? ((fn) => setImmediate(fn));
  }

  /** Generations waiting to converge (for tests and the debug view). */
  get pending(): number {
    return this.waiting.size;
  }

  /** A new generation of `Kind/namespace/name` was seen now; an older one still waiting is no longer measured. */
  written(kind: string, namespace: string, name: string, generation: number): void {
    if (!CONVERGING_KINDS.has(kind)) return;
    this.waiting.set(`${kind}/${namespace}/${name}`, { kind, generation, seenAt: this.now() });
  }

  deleted(kind: string, namespace: string, name: string): void {
    this.waiting.delete(`${kind}/${namespace}/${name}`);
  }

  /**
   * The summaries moved (src/xds/index.ts calls it after each sync computation, at most once a second): look again
   * in the next turn. When the look happens does not change the time measured: it ends at the completing ACK's own
   * time (lastAckAt).
   */
  changed(): void {
    this.lastEventAt = this.now();
    if (this.scheduled || this.waiting.size === 0) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.check();
    });
  }

  /** Ends the waits that are over: served here and ACKed by every proxy that needs them. */
  check(): void {
    if (this.waiting.size === 0) return;
    const summaries = this.options.summarize();
    const now = this.now();
    const maxWaitMs = this.options.maxWaitMs ?? 600_000;
    for (const [key, w] of this.waiting) {
      const sync = summaries.get(key);
      if (!sync || sync.servedGeneration < w.generation) {
        if (now - w.seenAt > maxWaitMs) this.waiting.delete(key);
        continue;
      }
      if (sync.servedGeneration > w.generation || sync.expected === 0) {
        // A newer generation is served (its own event starts its own wait), or no proxy here needs it: no ACK to wait for.
        this.waiting.delete(key);
        continue;
      }
      if (sync.acked < sync.expected) {
        if (now - w.seenAt > maxWaitMs) this.waiting.delete(key);
        continue;
      }
      this.waiting.delete(key);
      const at = sync.lastAckAt ?? this.lastEventAt;
      this.options.onConverged(w.kind, Math.max(0, at - w.seenAt) / 1000);
    }
  }
}

/**
 * Tells `tracker` of every new generation (created, or spec changed) of the kinds it measures, and of deletions.
 * The informers' replay of what they hold is not a change. Returns the unsubscribe function.
 */
export function watchGenerations(informers: MeshInformers, tracker: ConvergenceTracker): () => void {
  let replaying = true;
  const unsubscribe = informersByKind(informers)
    .filter(({ kind }) => CONVERGING_KINDS.has(kind))
    .map(({ kind, informer }) => {
      const seen = (obj: KubeObject) => {
        if (!replaying) tracker.written(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', obj.metadata?.generation ?? 0);
      };
      return (informer as Informer<KubeObject>).on({
        onAdd: seen,
        onUpdate: (old, obj) => {
          if (old.metadata?.generation !== obj.metadata?.generation) seen(obj);
        },
        onDelete: (obj) => tracker.deleted(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''),
      });
    });
  replaying = false;
  return () => unsubscribe.forEach((u) => u());
}
