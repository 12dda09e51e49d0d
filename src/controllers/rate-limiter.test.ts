import { describe, expect, it } from '@jest/globals';
import { BucketRateLimiter, defaultControllerRateLimiter, ExponentialFailureRateLimiter, MaxOfRateLimiter } from './rate-limiter.js';

describe('ExponentialFailureRateLimiter', () => {
  it('doubles per failure from 5 ms, caps at 1000 s, and forget() starts over', () => {
    const limiter = new ExponentialFailureRateLimiter();
    expect([1, 2, 3, 4].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40]);
    expect(limiter.numRequeues('a')).toBe(4);
    expect(limiter.when('b')).toBe(5); // per key
    for (let i = 0; i < 40; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(1_000_000);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through, then spaces retries at 1/qps, refilling with time', () => {
    let now = 0;
    const limiter = new BucketRateLimiter(10, 100, () => now);
    for (let i = 0; i < 100; i++) expect(limiter.when()).toBe(0);
    expect(limiter.when()).toBeCloseTo(100);
    expect(limiter.when()).toBeCloseTo(200);
    now = 10_000; // ten seconds refill the bucket (but never beyond the burst)
    expect(limiter.when()).toBe(0);
  });
});

describe('MaxOfRateLimiter (controller-runtime default)', () => {
  it('takes the larger delay and forgets in every limiter', () => {
    let now = 0;
    const limiter = new MaxOfRateLimiter(new ExponentialFailureRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 1, () => now));
    expect(limiter.when('a')).toBe(5); // bucket had a token; backoff decides
    expect(limiter.when('a')).toBeCloseTo(100); // bucket empty: 100 ms beats 10 ms
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(defaultControllerRateLimiter().when('x')).toBe(5);
  });
});
