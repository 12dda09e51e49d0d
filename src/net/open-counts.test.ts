import { describe, expect, it } from '@jest/globals';
import { OpenCounts } from './open-counts.js';

describe('OpenCounts', () => {
  it('counts slots per key, gives each back once, and forgets a key at zero', () => {
    const counts = new OpenCounts<string>();
    const a1 = counts.open('a');
    const a2 = counts.open('a');
    counts.open('b');
    expect([counts.get('a'), counts.get('b'), counts.get('c')]).toEqual([2, 1, 0]);
    a1();
    a1(); // a second call gives back nothing more
    expect(counts.get('a')).toBe(1);
    a2();
    expect(counts.has('a')).toBe(false);
  });
});
