// Writes to the API server that can wait (status, Events) give way to the proxies: while a push is being delivered
// or a storm of connects is served, they wait until the proxies have been still (no connect, disconnect, push or
// answer) for `quietMs`, and never longer than `maxWaitMs`. A VirtualService change otherwise wrote its status
// while its own push was still reaching 2000 proxies: the operator's JSON and HTTP work, and the API server's and
// etcd's, in the middle of the answers (docs/benchmarks.md, "API writes after the push"). At rest a write goes at once.
import { setImmediate as afterIo, setTimeout as sleep } from 'node:timers/promises';

export interface ProxyCalmOptions {
  /** How long the proxies must have been still (default 10 ms: a push's answers come closer together than that). */
  quietMs?: number;
  /** The longest a write waits (default 500 ms). */
  maxWaitMs?: number;
  now?: () => number;
}

export class ProxyCalm {
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  private movedAt = -Infinity;
  /** One look-out shared by every waiting write (a first start has thousands). */
  private waiting: Promise<void> | undefined;

  constructor(options: ProxyCalmOptions = {}) {
    this.quietMs = options.quietMs ?? 10;
    this.maxWaitMs = options.maxWaitMs ?? 500;
    this.now = options.now ?? (() => performance.now());
  }

  /** A proxy connected, disconnected, answered, or a push went out. */
  moved(): void {
    this.movedAt = this.now();
  }

  /** Resolves once the proxies have been still for quietMs (at once if they have), or after maxWaitMs. */
  settled(): Promise<void> {
    if (this.now() - this.movedAt >= this.quietMs) return Promise.resolve();
    return (this.waiting ??= this.watch().finally(() => (this.waiting = undefined)));
  }

  private async watch(): Promise<void> {
    const deadline = this.now() + this.maxWaitMs;
    for (;;) {
      const now = this.now();
      const stillFor = now - this.movedAt;
      if (stillFor >= this.quietMs || now >= deadline) return;
      // unref'd: a write waiting here must not keep a stopping process alive. Timers run before the loop reads
      // its sockets: look again after this turn's reads, or answers that came meanwhile would go unseen.
      await sleep(Math.min(this.quietMs - stillFor, deadline - now), undefined, { ref: false });
      await afterIo(undefined, { ref: false });
    }
  }
}
