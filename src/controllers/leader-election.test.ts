// The elector's decisions against an in-memory Lease store, on fake time.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { pino } from 'pino';
import { LeaderElector, type LeaseSpec, type LeaseStore, type StoredLease } from './leader-election.js';
import { Metrics } from './metrics.js';
import { ApiError } from './rest-client.js';

const log = pino({ level: 'silent' });
const start = Date.parse('2026-11-25T14:00:00.123Z');

/** One Lease with optimistic concurrency; each replica talks to it through its own, breakable connection. */
class MemoryLease {
  lease: StoredLease | undefined;
  /** Every successful write, in order. */
  readonly writes: LeaseSpec[] = [];
  private rv = 0;

  connect(): LeaseStore & { mode: 'ok' | 'failing' | 'hanging'; conflictNextWrite: boolean } {
    const connection = {
      mode: 'ok' as 'ok' | 'failing' | 'hanging',
      conflictNextWrite: false,
      get: () => this.call(connection, () => (this.lease ? structuredClone(this.lease) : undefined)),
      create: (spec: LeaseSpec) =>
        this.call(connection, () => {
          if (this.lease) throw new ApiError(409, 'AlreadyExists', 'lease exists');
          return this.write(spec);
        }),
      update: (spec: LeaseSpec, resourceVersion: string) =>
        this.call(connection, () => {
          if (connection.conflictNextWrite) {
            connection.conflictNextWrite = false;
            throw new ApiError(409, 'Conflict', 'the object has been modified');
          }
          if (this.lease?.resourceVersion !== resourceVersion) throw new ApiError(409, 'Conflict', 'the object has been modified');
          return this.write(spec);
        }),
    };
    return connection;
  }

  /** A write by someone outside the test's electors. */
  write(spec: LeaseSpec): StoredLease {
    this.lease = { spec: { ...spec }, resourceVersion: String(++this.rv) };
    this.writes.push({ ...spec });
    return structuredClone(this.lease);
  }

  private call<T>(connection: { mode: string }, op: () => T): Promise<T> {
    if (connection.mode === 'hanging') return new Promise(() => {});
    if (connection.mode === 'failing') return Promise.reject(new Error('connection refused'));
    return Promise.resolve().then(op);
  }
}

interface Candidate {
  elector: LeaderElector;
  store: ReturnType<MemoryLease['connect']>;
  abort: AbortController;
  done: Promise<void>;
  leading: boolean;
}

let timeline: string[];
let metrics: Metrics;

function candidate(lease: MemoryLease, identity: string): Candidate {
  const store = lease.connect();
  const c = { store, abort: new AbortController(), leading: false } as Candidate;
  c.elector = new LeaderElector(
    store,
    { name: 'weft', identity },
    {
      onStartedLeading: () => {
        c.leading = true;
        timeline.push(`${identity} leads @${Date.now() - start}`);
      },
      onStoppedLeading: () => {
        c.leading = false;
        timeline.push(`${identity} stops @${Date.now() - start}`);
      },
    },
    { log, metrics },
  );
  c.done = c.elector.run(c.abort.signal);
  return c;
}

const advance = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  jest.useFakeTimers({ now: start });
  jest.spyOn(Math, 'random').mockReturnValue(0); // retry exactly every retryPeriod: no jitter

  timeline = [];
  metrics = new Metrics({ defaultMetrics: false });
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('LeaderElector', () => {
  it('acquires an absent lease and writes MicroTime with six fractional digits', async () => {
    const lease = new MemoryLease();
    const a = candidate(lease, 'a');
    await advance(0);
    expect(a.leading).toBe(true);
    expect(lease.lease!.spec).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-25T14:00:00.123000Z',
      renewTime: '2026-11-25T14:00:00.123000Z',
      leaseTransitions: 0,
    });
    await advance(2_000);
    expect(lease.lease!.spec.renewTime).toBe('2026-11-25T14:00:02.123000Z'); // renewed every retry period
    expect(lease.lease!.spec.acquireTime).toBe('2026-11-25T14:00:00.123000Z');
    expect(await metrics.registry.getSingleMetricAsString('leader_election_master_status')).toContain('leader_election_master_status{name="weft"} 1');
    a.abort.abort();
    await a.done;
  });

  it('judges expiry by its own observation, not by the timestamps in the lease', async () => {
    const lease = new MemoryLease();
    // Written by a replica whose clock is far behind: by the remote timestamp the lease expired long ago.
    lease.write({ holderIdentity: 'old', leaseDurationSeconds: 15, renewTime: '2000-01-01T00:00:00.000000Z', leaseTransitions: 4 });
    const b = candidate(lease, 'b');
    await advance(14_000);
    expect(b.leading).toBe(false); // unchanged for less than leaseDuration since *we* first saw it
    await advance(6_000);
    expect(b.leading).toBe(true);
    expect(lease.lease!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });
    b.abort.abort();
    await b.done;
  });

  it('never takes over a lease whose holder keeps renewing it', async () => {
    const lease = new MemoryLease();
    const holder = lease.write({ holderIdentity: 'old', leaseDurationSeconds: 15, renewTime: '2000-01-01T00:00:00.000000Z' });
    const b = candidate(lease, 'b');
    for (let i = 0; i < 12; i++) {
      await advance(5_000);
      lease.write({ ...lease.lease!.spec, renewTime: `2000-01-01T00:00:${String(i).padStart(2, '0')}.000000Z` }); // a live holder
    }
    expect(b.leading).toBe(false);
    expect(b.elector.getLeader()).toBe(holder.spec.holderIdentity);
    b.abort.abort();
    await b.done;
  });

  it('of two candidates racing for an absent lease exactly one leads (the loser gets 409)', async () => {
    const lease = new MemoryLease();
    const a = candidate(lease, 'a');
    const b = candidate(lease, 'b');
    for (let i = 0; i < 30; i++) {
      await advance(1_000);
      expect([a.leading, b.leading].filter(Boolean)).toHaveLength(1);
    }
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    a.abort.abort();
    b.abort.abort();
    await Promise.all([a.done, b.done]);
  });

  it('a takeover that loses the write race (409) does not lead', async () => {
    const lease = new MemoryLease();
    lease.write({ holderIdentity: 'old', leaseDurationSeconds: 15, renewTime: '2026-11-25T14:00:00.000000Z' });
    const b = candidate(lease, 'b');
    await advance(14_000);
    b.store.conflictNextWrite = true; // someone else updates the lease first
    await advance(2_500);
    expect(b.leading).toBe(false);
    expect(lease.lease!.spec.holderIdentity).toBe('old');
    await advance(5_000); // the next try succeeds (the record did not really change)
    expect(b.leading).toBe(true);
    b.abort.abort();
    await b.done;
  });

  for (const mode of ['failing', 'hanging'] as const) {
    it(`a leader that cannot renew (${mode}) steps down within renewDeadline, before anyone else may lead`, async () => {
      const lease = new MemoryLease();
      const a = candidate(lease, 'a');
      await advance(0);
      expect(a.leading).toBe(true);
      const b = candidate(lease, 'b');
      await advance(3_000);
      const lastRenew = Date.parse(lease.lease!.spec.renewTime!.replace(/(\.\d{3})\d{3}Z$/, '$1Z')) - start;
      a.store.mode = mode; // partitioned from the API server
      await advance(30_000);
      expect(a.leading).toBe(false);
      expect(b.leading).toBe(true);
      const stoppedAt = Number(/a stops @(\d+)/.exec(timeline.join())![1]);
      const takenAt = Number(/b leads @(\d+)/.exec(timeline.join())![1]);
      expect(stoppedAt).toBeLessThanOrEqual(lastRenew + 10_000);
      expect(stoppedAt).toBeLessThan(takenAt);
      expect(await metrics.registry.getSingleMetricAsString('leader_election_master_status')).toContain('leader_election_master_status{name="weft"} 1'); // b's
      b.abort.abort();
      await Promise.all([a.done, b.done]);
    });
  }

  it('steps down at once when it sees another holder in the lease', async () => {
    const lease = new MemoryLease();
    const a = candidate(lease, 'a');
    await advance(0);
    lease.write({ ...lease.lease!.spec, holderIdentity: 'intruder' });
    await advance(2_000);
    expect(a.leading).toBe(false);
    await a.done; // run() returns after losing
  });

  it('releases the lease on cancel so a waiting peer takes over without waiting out the lease', async () => {
    const lease = new MemoryLease();
    const a = candidate(lease, 'a');
    await advance(0);
    const b = candidate(lease, 'b');
    await advance(4_000);
    expect(b.leading).toBe(false);
    a.abort.abort();
    await advance(0);
    await a.done;
    expect(timeline).toContain('a stops @4000');
    expect(lease.writes.at(-1)).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    await advance(5_000); // at most one jittered retry period, far less than the 15 s lease
    expect(b.leading).toBe(true);
    expect(lease.lease!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    b.abort.abort();
    await b.done;
    expect(lease.lease!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });

  it('rejects timings that would allow two leaders', () => {
    const store = new MemoryLease().connect();
    const callbacks = { onStartedLeading: () => {}, onStoppedLeading: () => {} };
    expect(() => new LeaderElector(store, { name: 'x', identity: 'a', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, callbacks, { log })).toThrow(/renewDeadline/);
  });
});
