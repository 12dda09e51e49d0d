// Exponential backoff with jitter, and an abortable sleep.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt; 2 by default. */
  factor?: number;
  /**
   * Fraction of each delay that is random: a delay is drawn from [d * (1 - jitter), d]. Jitter keeps replicas
   * that failed together from retrying together; drawing below the cap keeps the cap a true upper bound.
   */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next try; each call grows the next one, up to maxMs. */
  next(): number {
    const { initialMs, maxMs, factor = 2, jitter = 0.5, random = Math.random } = this.options;
    const delay = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt++;
    return delay * (1 - jitter * random());
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Waits `ms`, or less if `signal` aborts first. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
