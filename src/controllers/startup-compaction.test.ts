import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { StartupCompaction } from './startup-compaction.js';

const log = pino({ level: 'silent' });

describe('StartupCompaction', () => {
  it('collects once, after the informers synced and the queues stayed empty for the quiet time', async () => {
    let synced = false;
    let idle = false;
    let collections = 0;
    const compaction = new StartupCompaction({ synced: () => synced, idle: () => idle, log, quietMs: 50, checkEveryMs: 5, collect: () => collections++ });
    const abort = new AbortController();
    const running = compaction.start(abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(collections).toBe(0); // not synced yet
    synced = true;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(collections).toBe(0); // synced, but the queues are busy
    idle = true;
    await running; // returns once it has collected
    expect(collections).toBe(1);
    expect(compaction.collectedAt).toBeDefined();
  });

  it('waits for a quiet stretch: work in between starts the count again', async () => {
    let busyChecks = 0;
    let checks = 0;
    let collectedAfter = -1;
    // Busy every 4th check: never 10 quiet checks in a row until the busy spell ends after 40 checks.
    const idle = () => {
      checks++;
      if (checks <= 40 && checks % 4 === 0) {
        busyChecks++;
        return false;
      }
      return true;
    };
    const compaction = new StartupCompaction({ synced: () => true, idle, log, quietMs: 50, checkEveryMs: 5, collect: () => (collectedAfter = checks) });
    await compaction.start(new AbortController().signal);
    expect(busyChecks).toBe(10);
    expect(collectedAfter).toBe(50);
  });

  it('stops without collecting when the operator stops, and does nothing without a collector', async () => {
    let collections = 0;
    const abort = new AbortController();
    const running = new StartupCompaction({ synced: () => false, idle: () => true, log, checkEveryMs: 5, collect: () => collections++ }).start(abort.signal);
    abort.abort();
    await running;
    expect(collections).toBe(0);
    const noGc = new StartupCompaction({ synced: () => true, idle: () => true, log, quietMs: 5, checkEveryMs: 5, collect: undefined, trim: undefined });
    await noGc.start(new AbortController().signal); // neither a collector nor a trim: returns at once
    expect(noGc.collectedAt).toBeUndefined();
  });

  it('gives freed malloc memory back once, a while after the collection, and without a collector too', async () => {
    const calls: string[] = [];
    const compaction = new StartupCompaction({
      synced: () => true,
      idle: () => true,
      log,
      quietMs: 10,
      checkEveryMs: 5,
      trimDelayMs: 30,
      collect: () => calls.push(`collect ${Date.now()}`),
      trim: () => calls.push(`trim ${Date.now()}`) > 0,
    });
    await compaction.start(new AbortController().signal);
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['collect', 'trim']);
    const [collectedAt, trimmedAt] = calls.map((c) => Number(c.split(' ')[1]));
    expect(trimmedAt! - collectedAt!).toBeGreaterThanOrEqual(25); // after V8's background sweeping had its time

    let trims = 0;
    await new StartupCompaction({ synced: () => true, idle: () => true, log, quietMs: 5, checkEveryMs: 5, trimDelayMs: 0, collect: undefined, trim: () => ++trims > 0 }).start(
      new AbortController().signal,
    );
    expect(trims).toBe(1); // node without --expose-gc: still trims
  });

  it('does not trim when the operator stops while it waits to', async () => {
    let trims = 0;
    const abort = new AbortController();
    const running = new StartupCompaction({
      synced: () => true,
      idle: () => true,
      log,
      quietMs: 5,
      checkEveryMs: 5,
      trimDelayMs: 10_000,
      collect: () => abort.abort(),
      trim: () => ++trims > 0,
    }).start(abort.signal);
    await running;
    expect(trims).toBe(0);
  });

  it('waits while proxies keep the xDS server busy, and collects once their traffic stops', async () => {
    let activity = 0;
    let collectedAt = -1;
    const traffic = setInterval(() => activity < 30 && activity++, 2); // a connect storm: ACKs for a while
    try {
      await new StartupCompaction({
        synced: () => true,
        idle: () => true,
        activity: () => activity,
        log,
        quietMs: 25,
        checkEveryMs: 5,
        collect: () => (collectedAt = activity),
      }).start(new AbortController().signal);
    } finally {
      clearInterval(traffic);
    }
    expect(collectedAt).toBe(30); // not before the last ACK
  });

  it('counts a check as quiet only when the activity stood still since the check before, and never the first check', async () => {
    // Two quiet checks needed; `movesAt` lists the checks after which the activity moved.
    const collectedAfter = async (movesAt: number[]) => {
      let checks = 0;
      let count = 0;
      let collected = -1;
      const activity = () => {
        checks++;
        if (movesAt.includes(checks)) count++;
        return count;
      };
      await new StartupCompaction({ synced: () => true, idle: () => true, activity, log, quietMs: 10, checkEveryMs: 5, collect: () => (collected = checks) }).start(
        new AbortController().signal,
      );
      return collected;
    };
    expect(await collectedAfter([])).toBe(3); // the first look has nothing to compare with
    expect(await collectedAfter([3])).toBe(5); // a move starts the count again
  });
});
