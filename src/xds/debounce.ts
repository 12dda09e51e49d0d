// Adaptive debounce, per key (a namespace): a change after a quiet spell goes out at once; changes that follow
// it closely are gathered and go out together once `quietMs` pass without another, or `maxDelayMs` after the
// first of them. Each key has its own clock, so a busy namespace never delays another. Each flush is told when the
// first change it carries arrived (push latency is measured from there).

export interface DebounceOptions {
  quietMs: number;
  maxDelayMs: number;
  /** Injected for tests. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

interface KeyState<V> {
  pending: Set<V>;
  /** When the pending batch started (its first change). */
  batchStart: number;
  /** When this key last saw a change. */
  lastChange: number;
  timer: unknown;
}

export class AdaptiveDebouncer<K, V> {
  private readonly keys = new Map<K, KeyState<V>>();
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(
    private readonly flush: (values: Set<V>, firstChangeAt: number) => void,
    private readonly options: DebounceOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  add(key: K, values: Iterable<V>): void {
    const now = this.now();
    let state = this.keys.get(key);
    const quiet = !state || now - state.lastChange >= this.options.quietMs;
    if (!state) this.keys.set(key, (state = { pending: new Set(), batchStart: now, lastChange: now, timer: undefined }));
    state.lastChange = now;
    if (quiet && state.pending.size === 0) {
      this.flush(new Set(values), now); // an isolated change: no reason to wait
      return;
    }
    if (state.pending.size === 0) state.batchStart = now;
    for (const v of values) state.pending.add(v);
    if (state.timer !== undefined) this.clearTimer(state.timer);
    const due = Math.min(now + this.options.quietMs, state.batchStart + this.options.maxDelayMs);
    state.timer = this.setTimer(() => this.fire(key), Math.max(0, due - now));
  }

  /** Values waiting to go out, over every key (a queue depth for the metrics). */
  get pending(): number {
    let n = 0;
    for (const state of this.keys.values()) n += state.pending.size;
    return n;
  }

  /** Flushes everything pending now (shutdown, tests). */
  flushAll(): void {
    for (const key of [...this.keys.keys()]) this.fire(key);
  }

  private fire(key: K): void {
    const state = this.keys.get(key);
    if (!state) return;
    if (state.timer !== undefined) this.clearTimer(state.timer);
    state.timer = undefined;
    if (state.pending.size === 0) return;
    const values = state.pending;
    state.pending = new Set();
    this.flush(values, state.batchStart);
  }
}
