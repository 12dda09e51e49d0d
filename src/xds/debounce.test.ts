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

  it('tells each flush when its first change arrived, and counts what waits', () => {
    const time = fakeTime();
    const flushed: Array<{ values: string[]; since: number; at: number }> = [];
    const d = new AdaptiveDebouncer<string, string>((v, since) => flushed.push({ values: [...v].sort(), since, at: time.now() }), { quietMs: 100, maxDelayMs: 1000, ...time });
    time.advance(10);
    d.add('ns', ['a']);
    expect(flushed).toEqual([{ values: ['a'], since: 10, at: 10 }]); // isolated: at once
    time.advance(20);
    d.add('ns', ['b']);
    time.advance(30);
    d.add('ns', ['c', 'd']);
    d.add('other', ['x']);
    expect(d.pending).toBe(3); // b, c, d wait; x went out at once
    time.advance(100);
    expect(flushed.at(-1)).toEqual({ values: ['b', 'c', 'd'], since: 30, at: 160 }); // since the burst's first change
    expect(d.pending).toBe(0);
  });
});
