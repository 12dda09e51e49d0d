// A keyed work queue with client-go semantics (k8s.io/client-go/util/workqueue): deduplication, one worker
// per key at a time, re-add of keys that change while being processed, delayed and rate-limited adds.
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** Hooks the queue calls so metrics can follow a key through it (see metrics.ts). */
export interface QueueMetrics {
  /** `key` became dirty (a deduplicated add does not count). */
  add(key: string): void;
  /** A worker took `key`. */
  get(key: string): void;
  /** The worker finished `key`. */
  done(key: string): void;
  /** addRateLimited was called. */
  retry(): void;
}

const noMetrics: QueueMetrics = { add() {}, get() {}, done() {}, retry() {} };

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  metrics?: QueueMetrics;
}

export class WorkQueue {
  /**
   * Keys waiting for a worker, oldest first. Invariant: every key here is in `dirty` and none is in
   * `processing`; a key appears at most once.
   */
  private queue: string[] = [];
  /**
   * Keys that need processing. add() of a key already here is a no-op: that is the deduplication. A key in
   * both `dirty` and `processing` was added while a worker held it; done() moves it back into `queue`.
   */
  private readonly dirty = new Set<string>();
  /** Keys a worker holds right now. get() never hands out such a key, so a key never has two workers. */
  private readonly processing = new Set<string>();
  /** Delayed adds by key. Only the earliest due time is kept: a later addAfter cannot postpone a key. */
  private readonly waiting = new Map<string, { dueAt: number; timer: NodeJS.Timeout }>();
  /** Workers blocked in get(), oldest first; each is handed exactly one key (or undefined on shutdown). */
  private getters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: QueueMetrics;

  constructor(options: WorkQueueOptions = {}) {
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter();
    this.metrics = options.metrics ?? noMetrics;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.add(key);
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() re-queues it
    this.queue.push(key);
    this.handOut();
  }

  /** Adds `key` after `ms`. If the key is already scheduled sooner this is a no-op; if later, it moves up. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const dueAt = Date.now() + ms;
    const scheduled = this.waiting.get(key);
    if (scheduled && scheduled.dueAt <= dueAt) return;
    if (scheduled) clearTimeout(scheduled.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.waiting.set(key, { dueAt, timer });
  }

  /** Adds `key` after the rate limiter's delay: per-key exponential backoff, bounded overall. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retry();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets `key`'s backoff. Call it when the key succeeded. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * Resolves with the next key once one is available, or with undefined once the queue is shut down. The
   * caller owns the key until it calls done(key).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.queue.length > 0) return Promise.resolve(this.take());
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Ends processing of `key`; if it was added meanwhile it is queued again now. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    this.metrics.done(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.queue.push(key);
      this.handOut();
    }
  }

  /** Keys waiting for a worker (not those being processed or scheduled for later). */
  len(): number {
    return this.queue.length;
  }

  /**
   * Stops the queue at once: blocked and future get() calls resolve undefined, adds are ignored, pending
   * delayed adds are dropped. Unlike client-go the remaining keys are not drained: a queue dies with its
   * controller (e.g. on losing leadership) and the next one starts from the informers' full state.
   */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    this.queue = [];
    this.dirty.clear();
    const getters = this.getters;
    this.getters = [];
    for (const resolve of getters) resolve(undefined);
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private take(): string {
    const key = this.queue.shift()!;
    this.dirty.delete(key);
    this.processing.add(key);
    this.metrics.get(key);
    return key;
  }

  private handOut(): void {
    while (this.getters.length > 0 && this.queue.length > 0) this.getters.shift()!(this.take());
  }
}
