import { describe, expect, it } from '@jest/globals';
import { EventLoopSlices } from './event-loop-slices.js';

/** Slices on a clock the test moves: turns and sleeps are recorded and resolved by hand. */
function setUp(sliceMs = 10) {
  let now = 0;
  const turns: Array<() => void> = [];
  const sleeps: number[] = [];
  const slices = new EventLoopSlices(
    sliceMs,
    () => now,
    () => new Promise<void>((resolve) => turns.push(resolve)),
    async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  );
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { slices, turns, sleeps, settle, advance: (ms: number) => (now += ms) };
}

describe('EventLoopSlices', () => {
  it('goes on at once while the slice lasts, then waits for the next turn, which every worker shares', async () => {
    const { slices, turns, advance, settle } = setUp();
    let resumed = 0;
    await slices.yieldIfDue(); // the slice started with the clock: 0 ms spent
    expect(turns).toHaveLength(0);
    advance(10);
    const workers = [1, 2, 3].map(() => slices.yieldIfDue().then(() => resumed++));
    await settle();
    expect(turns).toHaveLength(1); // one turn asked for, however many workers wait
    expect(resumed).toBe(0);
    turns[0]!();
    await Promise.all(workers);
    expect(resumed).toBe(3);
    await slices.yieldIfDue(); // a new slice began with that turn
    expect(turns).toHaveLength(1);
  });

  it('holds a spent slice back as long as holdBack says, asking again at every check', async () => {
    const { slices, turns, sleeps, advance, settle } = setUp();
    let hold = 200;
    slices.deferWhile(() => hold);
    advance(10);
    const waited = slices.yieldIfDue();
    await settle();
    expect(sleeps).toEqual([20, 20, 20, 20, 20, 20, 20, 20, 20, 20]); // busy the whole time: held 200 ms, no more
    expect(turns).toHaveLength(1);
    turns[0]!();
    await waited;

    advance(10);
    let checks = 0;
    slices.deferWhile(() => (++checks < 3 ? 1000 : 0)); // free at the third check
    const next = slices.yieldIfDue();
    await settle();
    expect(sleeps.slice(10)).toEqual([20, 20]);
    turns[1]!();
    await next;
    hold = 0;
  });
});
