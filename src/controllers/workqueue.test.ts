import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

/** Lets pending promise callbacks run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records what get() hands out without blocking the test. */
function track(promise: Promise<string | undefined>): { value?: string; settled: boolean } {
  const state: { value?: string; settled: boolean } = { settled: false };
  void promise.then((value) => Object.assign(state, { value, settled: true }));
  return state;
}

describe('WorkQueue', () => {
  it('deduplicates keys that are waiting', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(queue.len()).toBe(0);
  });

  it('never hands a key to a second worker while the first holds it, and re-queues it on done()', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    const first = await queue.get();
    expect(first).toBe('ns/a');

    queue.add('ns/a'); // changed while being processed: dirty, but not available
    expect(queue.len()).toBe(0);
    const second = track(queue.get());
    await flush();
    expect(second.settled).toBe(false);

    queue.add('ns/a'); // still only one pending re-run
    queue.done('ns/a');
    await flush();
    expect(second.value).toBe('ns/a');
    queue.done('ns/a');
    expect(queue.len()).toBe(0); // the two adds while processing collapsed into one run
  });

  it('does not re-queue a key after done() unless it was added meanwhile', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.done((await queue.get())!);
    expect(queue.len()).toBe(0);
  });

  it('wakes blocked workers in order as keys arrive', async () => {
    const queue = new WorkQueue();
    const w1 = track(queue.get());
    const w2 = track(queue.get());
    queue.add('a');
    await flush();
    expect([w1.value, w2.settled]).toEqual(['a', false]);
    queue.add('b');
    await flush();
    expect(w2.value).toBe('b');
  });

  it('shutDown() releases blocked workers with undefined and ignores later adds', async () => {
    const queue = new WorkQueue();
    const waiting = track(queue.get());
    queue.addAfter('later', 10_000);
    queue.shutDown();
    await flush();
    expect(waiting).toEqual({ settled: true, value: undefined });
    queue.add('a');
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(queue.isShuttingDown()).toBe(true);
  });

  describe('with fake timers', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    it('addAfter keeps the earliest due time for a key', async () => {
      const queue = new WorkQueue();
      queue.addAfter('a', 1000);
      queue.addAfter('a', 100); // moves it up
      queue.addAfter('b', 100);
      queue.addAfter('b', 1000); // ignored: already due sooner
      await jest.advanceTimersByTimeAsync(99);
      expect(queue.len()).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(queue.len()).toBe(2);
      queue.done((await queue.get())!);
      queue.done((await queue.get())!);
      await jest.advanceTimersByTimeAsync(2000);
      expect(queue.len()).toBe(0); // no second delivery from the superseded timers
    });

    it('addRateLimited backs off exponentially per key and forget() resets it', async () => {
      const queue = new WorkQueue({ rateLimiter: new ExponentialFailureRateLimiter(5, 1000) });
      const readyAfter = async (): Promise<number> => {
        queue.addRateLimited('a');
        let waited = 0;
        while (queue.len() === 0) {
          await jest.advanceTimersByTimeAsync(1);
          waited++;
        }
        queue.done((await queue.get())!);
        return waited;
      };
      expect([await readyAfter(), await readyAfter(), await readyAfter(), await readyAfter()]).toEqual([5, 10, 20, 40]);
      expect(queue.numRequeues('a')).toBe(4);
      queue.forget('a');
      expect(queue.numRequeues('a')).toBe(0);
      expect(await readyAfter()).toBe(5);
    });
  });

  it('reports adds, gets and dones to its metrics hooks', async () => {
    const calls: string[] = [];
    const queue = new WorkQueue({
      metrics: { add: (k) => calls.push(`add ${k}`), get: (k) => calls.push(`get ${k}`), done: (k) => calls.push(`done ${k}`), retry: () => calls.push('retry') },
    });
    queue.add('a');
    queue.add('a');
    const key = (await queue.get())!;
    queue.done(key);
    expect(calls).toEqual(['add a', 'get a', 'done a']);
  });
});
