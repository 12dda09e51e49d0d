// Whether proxies are connecting by the hundred (a restarted operator's reconnect storm, a rollout): connections
// accepted within one second, counted as they come. Read by the heap's growth (burst-heap-growth.ts) and, through
// XdsFeature.reconcileHoldBackMs, by the reconcile workers' event-loop slices, which let such a storm go first.
export class ConnectBurst {
  private secondStartedAt = -Infinity;
  private connectsThisSecond = 0;
  /** When the last connection that made or continued a burst came (`now`). */
  private lastBurstAt = -Infinity;

  constructor(
    /** Connections within one second that make a burst. */
    private readonly perSecond = 50,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A connection was accepted; true when it makes or continues a burst. */
  connected(): boolean {
    const now = this.now();
    if (now - this.secondStartedAt >= 1000) {
      this.secondStartedAt = now;
      this.connectsThisSecond = 0;
    }
    if (++this.connectsThisSecond < this.perSecond) return false;
    this.lastBurstAt = now;
    return true;
  }

  /** Milliseconds since the last connection of a burst (Infinity if none came). */
  sinceLastMs(): number {
    return this.now() - this.lastBurstAt;
  }
}
