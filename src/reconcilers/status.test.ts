// Status fields are written as merge patches: an object field must replace what is stored, not merge into it.
import { describe, expect, it } from '@jest/globals';
import { replacing } from './status.js';

describe('replacing', () => {
  it('removes, at any depth, the keys the stored value has and the new one lacks', () => {
    const stored = { generation: 3, spec: { mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } }, authorization: { action: 'ALLOW' } } };
    const next = { generation: 5, spec: { mtls: { mode: 'STRICT' }, authorization: { action: 'ALLOW', rules: [{}] } } };
    expect(replacing(stored, next)).toEqual({ generation: 5, spec: { portLevelMtls: null, mtls: { mode: 'STRICT' }, authorization: { action: 'ALLOW', rules: [{}] } } });
  });

  it('passes through what is not an object on both sides: values, lists, null, a first write', () => {
    expect(replacing({ a: 1 }, null)).toBeNull();
    expect(replacing([1, 2], [3])).toEqual([3]);
    expect(replacing(undefined, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(replacing({ a: { b: 1, c: 2 } }, { a: 7 })).toEqual({ a: 7 });
  });
});
