// One full garbage collection once the start-up burst is over. A first start judges every object and writes its
// status and an Event (3000 of each at 1000 services); the garbage that leaves in the old generation is collected only
// when the heap next reaches its limit, which an operator at rest may never do: measured, 47 MiB of garbage was
// still held a minute after the queues drained (docs/benchmarks.md, Memory). V8's own memory reducer starts only
// after a full GC, so none came. `gc` exists when node runs with --expose-gc, as the operator's Deployment does
// (OPERATOR_NODE_OPTIONS); without it this does nothing. Then glibc's malloc_trim: what the burst freed outside
// V8's heap (request and response buffers, V8's workers' compiler zones) stays in glibc's arenas otherwise, 13-25
// MiB at 1000 services (docs/benchmarks.md, Memory).
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import type { Runnable } from './controller.js';
import { loadMallocTrim, type MallocTrim } from './malloc-trim.js';

export interface StartupCompactionOptions {
  /** Whether the informers have synced. */
  synced: () => boolean;
  /**
   * Whether the burst is over: every work queue empty and nothing in process, and (the operator's) no Event write
   * left; a first start's 9000 Events are written for a while after its queues drain.
   */
  idle: () => boolean;
  /**
   * A count that moves with outside work (the operator's: every proxy connect, disconnect, push and answer): a check
   * after which it moved is not quiet. The collection blocks the event loop (0.2-0.9 s with 2000 proxies connected,
   * measured): a connect storm or a push would wait behind it.
   */
  activity?: () => number;
  log: Logger;
  /** How long the queues must stay empty (default 10 s). */
  quietMs?: number;
  checkEveryMs?: number;
  /** The collector (default: node's `gc` under --expose-gc, as a last resort; undefined: none). */
  collect?: (() => void) | undefined;
  /** Gives freed malloc memory back after the collection (default: the malloc-trim addon; undefined: none). */
  trim?: MallocTrim | undefined;
  /** How long to wait between the collection, if any, and the trim (default 1 s). */
  trimDelayMs?: number;
}

export class StartupCompaction implements Runnable {
  readonly needLeaderElection = false;
  /** When the collection ran, for tests and logs; undefined until then. */
  collectedAt: number | undefined;

  constructor(private readonly options: StartupCompactionOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    const collect = 'collect' in this.options ? this.options.collect : lastResortGc();
    const trim = 'trim' in this.options ? this.options.trim : loadMallocTrim();
    if (!collect && !trim) return;
    const checkEveryMs = this.options.checkEveryMs ?? 1_000;
    const needed = Math.ceil((this.options.quietMs ?? 10_000) / checkEveryMs);
    let quiet = 0;
    let lastActivity: number | undefined; // none seen yet: the first check is not quiet
    while (!signal.aborted) {
      await sleep(checkEveryMs, undefined, { signal, ref: false }).catch(() => undefined);
      if (signal.aborted) return;
      const activity = this.options.activity?.();
      const moved = activity !== lastActivity;
      lastActivity = activity;
      quiet = this.options.synced() && this.options.idle() && !moved ? quiet + 1 : 0;
      if (quiet < needed) continue;
      const heapBefore = heapUsedMiB();
      const rssBefore = rssMiB();
      const started = performance.now();
      collect?.();
      const ms = Math.round(performance.now() - started);
      const heapCollected = heapUsedMiB();
      const rssCollected = rssMiB();
      if (collect) this.collectedAt = Date.now();
      // V8 frees the backing stores of collected ArrayBuffers on a background thread after the collection.
      if (trim && collect) await sleep(this.options.trimDelayMs ?? 1_000, undefined, { signal, ref: false }).catch(() => undefined);
      if (signal.aborted) return;
      const trimStarted = performance.now();
      const trimmed = trim?.();
      const trimMs = Math.round(performance.now() - trimStarted);
      this.options.log.info(
        {
          ms,
          ...(trim ? { trimMs } : {}),
          heapUsedMiB: [heapBefore, heapCollected],
          rssMiB: [rssBefore, rssCollected, ...(trim ? [rssMiB()] : [])],
          ...(trim ? { mallocTrimmed: trimmed } : {}),
        },
        `start-up settled: ${[collect && 'collected its garbage', trim && 'gave freed malloc memory back'].filter(Boolean).join(' and ')}`,
      );
      return;
    }
  }
}

const mib = (bytes: number): number => Math.round(bytes / 1048576);
const heapUsedMiB = (): number => mib(getHeapStatistics().used_heap_size);

/** RSS for the log; null where /proc cannot be read (Node throws then: a chroot without it), never a failure. */
function rssMiB(): number | null {
  try {
    return mib(process.memoryUsage.rss());
  } catch {
    return null;
  }
}

/**
 * node's `gc` as V8's low-memory notification runs it: collects until nothing more goes, compacting, and gives the
 * emptied pages back. A plain `gc()` freed the objects (heap used 117 → 68 MiB) but kept the pages (RSS 240 → 239).
 */
function lastResortGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: (options?: object) => void }).gc;
  return gc ? () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : undefined;
}
