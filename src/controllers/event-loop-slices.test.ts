import { describe, expect, it } from '@jest/globals';
import { EventLoopSlices } from './event-loop-slices.js';

/**
 * Slices on a clock the test moves; the event loop's turns are the test's to give (`turn()` resolves every wait
 * for one, as a real turn runs every queued immediate), and sleeps advance the clock.
 */
function setUp(sliceMs = 10) {
  let now = 0;
  let waiting: Array<() => void> = [];
  const sleeps: number[] = [];
  const slices = new EventLoopSlices(
    sliceMs,
    () => now,
    () => new Promise<void>((resolve) => waiting.push(resolve)),
    async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  );
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const turn = async () => {
    const due = waiting;
    waiting = [];
    for (const resolve of due) resolve();
    await settle();
  };
  return { slices, sleeps, settle, turn, advance: (ms: number) => (now += ms), waitingTurns: () => waiting.length };
}

describe('EventLoopSlices', () => {
  it('goes on at once while the slice lasts, then waits for the next turn, which every worker shares', async () => {
    const { slices, advance, settle, turn, waitingTurns } = setUp();
    let resumed = 0;
    await slices.yieldIfDue(); // 0 ms of the slice spent
    advance(10);
    const workers = [1, 2, 3].map(() => slices.yieldIfDue().then(() => resumed++));
    await settle();
    expect(resumed).toBe(0);
    expect(waitingTurns()).toBe(2); // the slice's own marker, and one turn asked for however many workers wait
    await turn();
    await Promise.all(workers);
    expect(resumed).toBe(3);
    advance(5);
    await slices.yieldIfDue(); // within the new slice
    expect(waitingTurns()).toBe(1); // only the new slice's marker
  });

  it('starts a fresh slice without waiting when the loop turned meanwhile (a reconcile waited on I/O)', async () => {
    const { slices, advance, turn, waitingTurns } = setUp();
    await turn(); // the loop turns while the reconcile waits for its write
    advance(50);
    await slices.yieldIfDue();
    expect(waitingTurns()).toBe(1); // no turn asked for: just the fresh slice's marker
  });

  it('holds a spent slice back as long as holdBack says, asking again at every check', async () => {
    const { slices, sleeps, advance, settle, turn } = setUp();
    slices.deferWhile(() => 200);
    advance(10);
    const held = slices.yieldIfDue();
    await settle();
    expect(sleeps).toEqual([20, 20, 20, 20, 20, 20, 20, 20, 20, 20]); // busy the whole time: held 200 ms, no more
    await turn();
    await held;

    advance(10);
    let checks = 0;
    slices.deferWhile(() => (++checks < 3 ? 1000 : 0)); // free at the third check
    const next = slices.yieldIfDue();
    await settle();
    expect(sleeps.slice(10)).toEqual([20, 20]);
    await turn();
    await next;
  });
});
