import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyCalm } from './proxy-calm.js';

/** Calls `move` every `everyMs` until stopped. */
function keepMoving(calm: ProxyCalm, everyMs: number): { stop: () => number } {
  calm.moved();
  const timer = setInterval(() => calm.moved(), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return performance.now();
    },
  };
}

describe('ProxyCalm', () => {
  it('lets a write through at once when no proxy has moved', async () => {
    const calm = new ProxyCalm({ quietMs: 50 });
    let through = false;
    void calm.settled().then(() => (through = true));
    await Promise.resolve();
    expect(through).toBe(true);
  });

  it('holds writes while proxies keep moving and lets them through once they have been still for quietMs', async () => {
    const calm = new ProxyCalm({ quietMs: 30, maxWaitMs: 10_000 });
    const moving = keepMoving(calm, 5);
    let resolvedAt: number | undefined;
    const first = calm.settled();
    expect(calm.settled()).toBe(first); // one look-out for every waiting write
    void first.then(() => (resolvedAt = performance.now()));
    await sleep(120);
    expect(resolvedAt).toBeUndefined(); // still moving
    const stoppedAt = moving.stop();
    await first;
    expect(resolvedAt! - stoppedAt).toBeGreaterThanOrEqual(29);
  });

  it('never holds a write longer than maxWaitMs', async () => {
    const calm = new ProxyCalm({ quietMs: 30, maxWaitMs: 100 });
    const moving = keepMoving(calm, 5);
    try {
      let through = false;
      void calm.settled().then(() => (through = true));
      await sleep(400);
      expect(through).toBe(true); // the proxies never stood still
    } finally {
      moving.stop();
    }
  });
});
