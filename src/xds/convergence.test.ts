// When a generation counts as converged at this replica, over sync summaries the test sets by hand.
import { describe, expect, it } from '@jest/globals';
import { ConvergenceTracker, type GenerationSync } from './convergence.js';

function setup(maxWaitMs = 60_000) {
  let now = 1000;
  const summaries = new Map<string, GenerationSync>();
  const converged: Array<[string, number]> = [];
  const tracker = new ConvergenceTracker({
    summarize: () => summaries,
    onConverged: (kind, seconds) => converged.push([kind, seconds]),
    maxWaitMs,
    now: () => now,
    defer: (fn) => fn(),
  });
  return { tracker, summaries, converged, advance: (ms: number) => (now += ms) };
}

describe('ConvergenceTracker', () => {
  it('ends the wait at the last ACK of the generation seen, not at its push', () => {
    const t = setup();
    t.tracker.written('VirtualService', 'shop', 'reviews', 2);
    t.summaries.set('VirtualService/shop/reviews', { servedGeneration: 1, expected: 2, acked: 2 });
    t.tracker.changed(); // the old generation, all ACKed: not this one
    t.advance(30);
    t.summaries.set('VirtualService/shop/reviews', { servedGeneration: 2, expected: 2, acked: 0 });
    t.tracker.changed(); // pushed
    t.advance(40);
    t.summaries.set('VirtualService/shop/reviews', { servedGeneration: 2, expected: 2, acked: 1 });
    t.tracker.changed(); // one ACK of two
    expect(t.converged).toEqual([]);
    t.advance(50);
    t.summaries.set('VirtualService/shop/reviews', { servedGeneration: 2, expected: 2, acked: 2 });
    t.tracker.changed();
    expect(t.converged).toEqual([['VirtualService', 0.12]]);
    expect(t.tracker.pending).toBe(0);
  });

  it('ends the wait at the completing ACK\'s own time, however late it looks', () => {
    const t = setup();
    t.tracker.written('VirtualService', 'shop', 'reviews', 2);
    t.summaries.set('VirtualService/shop/reviews', { servedGeneration: 2, expected: 2, acked: 0 });
    t.tracker.changed(); // pushed
    t.summaries.set('VirtualService/shop/reviews', { servedGeneration: 2, expected: 2, acked: 2, lastAckAt: 1025 });
    t.advance(900); // the sync status computed again later
    t.tracker.changed();
    expect(t.converged).toEqual([['VirtualService', 0.025]]); // the ACK at 1025, not the look at 1900
  });

  it('measures nothing when no proxy here needs the object, a newer generation is served, or it waited too long', () => {
    const t = setup(1000);
    t.tracker.written('ServiceEntry', 'shop', 'unused', 1);
    t.summaries.set('ServiceEntry/shop/unused', { servedGeneration: 1, expected: 0, acked: 0 });
    t.tracker.written('DestinationRule', 'shop', 'moved-on', 3);
    t.summaries.set('DestinationRule/shop/moved-on', { servedGeneration: 4, expected: 1, acked: 1 });
    t.tracker.written('VirtualService', 'shop', 'rejected', 5);
    t.summaries.set('VirtualService/shop/rejected', { servedGeneration: 5, expected: 1, acked: 0 });
    t.tracker.changed();
    expect(t.tracker.pending).toBe(1); // the rejected one still waits
    t.advance(1001);
    t.tracker.changed();
    expect(t.tracker.pending).toBe(0);
    expect(t.converged).toEqual([]);
  });

  it('ignores kinds whose config the sync summaries do not cover, and forgets deleted objects', () => {
    const t = setup();
    t.tracker.written('Gateway', 'shop', 'edge', 1);
    t.tracker.written('WorkloadEntry', 'shop', 'v1', 1);
    expect(t.tracker.pending).toBe(1);
    t.tracker.deleted('WorkloadEntry', 'shop', 'v1');
    expect(t.tracker.pending).toBe(0);
  });
});
