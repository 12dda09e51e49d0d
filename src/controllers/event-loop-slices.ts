// Reconcile work hands the event loop back between slices. A reconcile that writes nothing (every object at an
// operator's start, each one judged again and found up to date) never waits on I/O, and the work queue hands the
// next key out in a microtask: a burst of thousands ran as one task, and whatever else the process serves waited
// behind it (at 1000 services the xDS port opened ~0.5 s later after a restart; a lease renewal, a health probe and
// the watch events of a change wait the same way). Something more urgent (proxies being served) can also hold the
// next slice back for a while.
export const RECONCILE_SLICE_MS = 10;

/**
 * How long a spent slice may still be held back, asked again every check: 0 when nothing more urgent waits, else
 * the longest wait (counted from the slice's end) that urgency is worth. Reconciles are slowed, never starved.
 */
export type HoldBack = () => number;

export class EventLoopSlices {
  private sliceStartedAt = 0;
  /** Whether the event loop has had a turn since the slice began: reconciles that wait on I/O hold nothing up. */
  private turned = false;
  /** Slices started so far: a turn that comes after its slice was replaced marks nothing. */
  private slices = 0;
  /** The turn every worker whose slice is spent waits for: they share the slice it starts. */
  private turn: Promise<void> | undefined;
  private holdBack: HoldBack = () => 0;

  constructor(
    private readonly sliceMs = RECONCILE_SLICE_MS,
    private readonly now: () => number = () => performance.now(),
    private readonly nextTurn: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    /** How often `holdBack` is asked again while it holds a slice back (ms). */
    private readonly checkMs = 20,
  ) {
    this.startSlice();
  }

  /** Spent slices wait as `holdBack` says before the next one starts. */
  deferWhile(holdBack: HoldBack): void {
    this.holdBack = holdBack;
  }

  /**
   * Resolves at once while the current slice lasts (a slice being the time the loop has been held without a turn);
   * once it is spent, on the event loop's next turn (after the I/O that came meanwhile, and after `holdBack`'s
   * wait), which starts the next slice.
   */
  async yieldIfDue(): Promise<void> {
    if (this.turn) return this.turn;
    if (this.turned) return this.startSlice(); // the loop turned meanwhile (the reconciles waited on I/O)
    if (this.now() - this.sliceStartedAt < this.sliceMs) return;
    this.turn = this.waitTurn().then(() => {
      this.turn = undefined;
      this.startSlice();
    });
    await this.turn;
  }

  private startSlice(): void {
    const slice = ++this.slices;
    this.sliceStartedAt = this.now();
    this.turned = false;
    void this.nextTurn().then(() => {
      if (slice === this.slices) this.turned = true;
    });
  }

  private async waitTurn(): Promise<void> {
    const since = this.now();
    while (this.now() - since < this.holdBack()) await this.sleep(this.checkMs);
    await this.nextTurn();
  }
}
