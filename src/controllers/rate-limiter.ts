// How long a key waits before it is retried. Small types combined, as in client-go's workqueue package.

export interface RateLimiter {
  /** The delay before `key` is handed out again; calling it counts as one more failure of `key`. */
  when(key: string): number;
  /** The key succeeded: its failure history is dropped. */
  forget(key: string): void;
  numRequeues(key: string): number;
}

/**
 * client-go's ItemExponentialFailureRateLimiter: base * 2^failures, capped. With the defaults a key retries
 * after 5 ms, 10 ms, 20 ms, ... and settles at 1000 s after about 18 failures in a row.
 */
export class ExponentialFailureRateLimiter implements RateLimiter {
  /** key → consecutive failures. Entries live until forget(), which reconcilers reach on success. */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** failures);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket (Go's rate.Limiter as client-go's BucketRateLimiter uses it): `burst` retries pass at
 * once, after that `qps` per second. Each call reserves a token, possibly in the future, and returns the wait.
 * It bounds the retry rate of the whole queue when many keys fail together.
 */
export class BucketRateLimiter implements RateLimiter {
  /** Tokens available at `updatedAt`; negative when reservations reach into the future. */
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  when(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.qps);
    this.updatedAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(): void {}

  numRequeues(): number {
    return 0;
  }
}

/** The slowest of several limiters wins; forget() reaches all of them. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see the failure (each keeps its own state), so no short-circuit.
    return this.limiters.map((l) => l.when(key)).reduce((a, b) => Math.max(a, b), 0);
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiters.map((l) => l.numRequeues(key)).reduce((a, b) => Math.max(a, b), 0);
  }
}

/** controller-runtime's default: per-key 5 ms → 1000 s, and 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter(): RateLimiter {
  return new MaxOfRateLimiter(new ExponentialFailureRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 100));
}
