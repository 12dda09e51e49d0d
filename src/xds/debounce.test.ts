import { describe, expect, it } from '@jest/globals';
import { AdaptiveDebouncer } from './debounce.js';

/** A clock and timers the test moves by hand. */
function fakeTime() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (id: unknown) => void timers.delete(id as number),
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now && timers.delete(id)) t.fn();
      }
    },
  };
}

describe('AdaptiveDebouncer', () => {
  it('sends an isolated change at once, batches a burst, and keeps namespaces apart', () => {
    const time = fakeTime();
    const flushed: string[][] = [];
    const d = new AdaptiveDebouncer<string, string>((v) => flushed.push([...v].sort()), { quietMs: 100, maxDelayMs: 1000, ...time });
    d.add('shop', ['a']);
    expect(flushed).toEqual([['a']]); // at once
    time.advance(10);
    d.add('shop', ['b']);
    time.advance(10);
    d.add('shop', ['c']);
    d.add('other', ['x']); // another namespace: quiet there, so at once
    expect(flushed).toEqual([['a'], ['x']]);
    time.advance(99);
    expect(flushed).toEqual([['a'], ['x']]);
    time.advance(1);
    expect(flushed).toEqual([['a'], ['x'], ['b', 'c']]); // the burst, together, after 100 ms of quiet
  });

  it('never holds a steady stream back longer than maxDelayMs', () => {
    const time = fakeTime();
    const flushed: number[] = [];
    const d = new AdaptiveDebouncer<string, number>((v) => flushed.push(v.size), { quietMs: 100, maxDelayMs: 300, ...time });
    d.add('ns', [0]);
    for (let i = 1; i <= 10; i++) {
      time.advance(50);
      d.add('ns', [i]);
    }
    expect(flushed).toEqual([1, 6]); // the first at once, then changes 1-6 at 300 ms after change 1
    d.flushAll();
    expect(flushed).toEqual([1, 6, 4]);
  });
});
