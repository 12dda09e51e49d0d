import { describe, expect, it } from '@jest/globals';
import { ConnectBurst } from './connect-burst.js';

describe('ConnectBurst', () => {
  it('tells a burst (perSecond connections within a second) from a trickle, and how long since its last connection', () => {
    let now = 0;
    const burst = new ConnectBurst(3, () => now);
    expect(burst.sinceLastMs()).toBe(Infinity);
    expect([burst.connected(), burst.connected()]).toEqual([false, false]);
    now = 1000; // a new second: the count starts again
    expect([burst.connected(), burst.connected(), burst.connected(), burst.connected()]).toEqual([false, false, true, true]);
    now = 1500;
    expect(burst.sinceLastMs()).toBe(500);
  });
});
