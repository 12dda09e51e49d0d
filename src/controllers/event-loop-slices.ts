// Reconcile work hands the event loop back between slices. A reconcile that writes nothing (every object at an
// operator's start, each one judged again and found up to date) never waits on I/O, and the work queue hands the
// next key out in a microtask: a burst of thousands ran as one task, and whatever else the process serves waited
// behind it (at 1000 services the xDS port opened ~0.5 s later after a restart; a lease renewal, a health probe and
// the watch events of a change wait the same way). Something more urgent (proxies reconnecting by the hundred) can
// also hold the next slice back for a while.
export const RECONCILE_SLICE_MS = 10;

export interface DeferOptions {
  /** How often `busy` is asked again while it holds a slice back (ms, default 50). */
  checkMs?: number;
  /** The longest one slice is held back (ms, default 1000): reconciles are slowed, never starved. */
  maxMs?: number;
}

export class EventLoopSlices {
  private sliceStartedAt: number;
  /** The turn every worker whose slice is spent waits for: they share the slice it starts. */
  private turn: Promise<void> | undefined;
  private busy: (() => boolean) | undefined;
  private deferOptions: Required<DeferOptions> = { checkMs: 50, maxMs: 1000 };

  constructor(
    private readonly sliceMs = RECONCILE_SLICE_MS,
    private readonly now: () => number = () => performance.now(),
    private readonly nextTurn: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.sliceStartedAt = now();
  }

  /** While `busy()` is true, a spent slice waits (up to `maxMs`) before the next one starts. */
  deferWhile(busy: () => boolean, options: DeferOptions = {}): void {
    this.busy = busy;
    this.deferOptions = { checkMs: options.checkMs ?? 50, maxMs: options.maxMs ?? 1000 };
  }

  /**
   * Resolves at once while the current slice lasts; once it is spent, on the event loop's next turn (after the I/O
   * that came meanwhile, and after `busy` has passed or its wait is up), which starts the next slice.
   */
  async yieldIfDue(): Promise<void> {
    if (this.now() - this.sliceStartedAt < this.sliceMs) return;
    this.turn ??= this.waitTurn().then(() => {
      this.turn = undefined;
      this.sliceStartedAt = this.now();
    });
    await this.turn;
  }

  private async waitTurn(): Promise<void> {
    const { checkMs, maxMs } = this.deferOptions;
    const until = this.now() + maxMs;
    while (this.busy?.() && this.now() < until) await this.sleep(checkMs);
    await this.nextTurn();
  }
}
