import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { BurstHeapGrowth } from './burst-heap-growth.js';

describe('BurstHeapGrowth', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  const setUp = (perSecond = 5) => {
    jest.useFakeTimers();
    const flags: string[] = [];
    let now = 0;
    const growth = new BurstHeapGrowth({ perSecond, percent: 150, calmMs: 3_000, setFlags: (f) => flags.push(f), now: () => now });
    const advance = (ms: number) => {
      now += ms;
      jest.advanceTimersByTime(ms);
    };
    return { growth, flags, advance };
  };

  it('leaves V8 alone while proxies connect at a trickle', () => {
    const { growth, flags, advance } = setUp();
    for (let i = 0; i < 20; i++) {
      growth.connected();
      advance(250); // 4 a second, under 5
    }
    expect(flags).toEqual([]);
    expect(growth.active).toBe(false);
  });

  it('loosens the growth once a second brings a burst, once, and gives it back when connects have been calm', () => {
    const { growth, flags, advance } = setUp();
    for (let i = 0; i < 12; i++) growth.connected();
    expect(flags).toEqual(['--heap-growing-percent=150']);
    expect(growth.active).toBe(true);

    // Still bursting 2.5 s later: the calm is counted from the last burst.
    advance(2_500);
    for (let i = 0; i < 5; i++) growth.connected();
    advance(2_500);
    expect(growth.active).toBe(true);
    // A trickle is calm.
    growth.connected();
    advance(1_000);
    expect(flags).toEqual(['--heap-growing-percent=150', '--heap-growing-percent=0']);
    expect(growth.active).toBe(false);
  });

  it('gives V8 its own growth back on stop', () => {
    const { growth, flags } = setUp(1);
    growth.connected();
    growth.stop();
    growth.stop();
    expect(flags).toEqual(['--heap-growing-percent=150', '--heap-growing-percent=0']);
  });

  it("sets the flag in this very V8 and takes it back (a Node that froze V8's flags after start would abort here)", () => {
    const growth = new BurstHeapGrowth({ perSecond: 1 });
    growth.connected();
    expect(growth.active).toBe(true);
    growth.stop();
    expect(growth.active).toBe(false);
  });
});
