import { describe, expect, it } from '@jest/globals';
import { findCondition, isConditionTrue, removeCondition, setCondition, type Condition } from './conditions.js';

const t0 = new Date('2026-11-25T14:00:00.789Z');
const t1 = new Date('2026-11-25T15:30:00.000Z');

describe('setCondition', () => {
  it('adds a new condition with the transition time in whole seconds', () => {
    const result = setCondition([], { type: 'Ready', status: 'False', reason: 'NoEndpoints', message: 'no endpoints yet' }, 3, t0);
    expect(result).toEqual({
      changed: true,
      transitioned: true,
      conditions: [{ type: 'Ready', status: 'False', reason: 'NoEndpoints', message: 'no endpoints yet', observedGeneration: 3, lastTransitionTime: '2026-11-25T14:00:00Z' }],
    });
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const { conditions } = setCondition([], { type: 'Ready', status: 'False', reason: 'NoEndpoints', message: 'a' }, 1, t0);
    const result = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'Pending', message: 'b' }, 2, t1);
    expect(result.changed).toBe(true);
    expect(result.transitioned).toBe(false);
    expect(result.conditions[0]).toMatchObject({ reason: 'Pending', message: 'b', observedGeneration: 2, lastTransitionTime: '2026-11-25T14:00:00Z' });
  });

  it('moves lastTransitionTime when the status changes', () => {
    const { conditions } = setCondition([], { type: 'Ready', status: 'False', reason: 'NoEndpoints', message: 'a' }, 1, t0);
    const result = setCondition(conditions, { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }, 1, t1);
    expect(result).toMatchObject({ changed: true, transitioned: true });
    expect(result.conditions[0]!.lastTransitionTime).toBe('2026-11-25T15:30:00Z');
  });

  it('reports no change for an identical update and leaves the input untouched', () => {
    const existing: Condition[] = [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 },
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 },
    ];
    const frozen = JSON.stringify(existing);
    const same = setCondition(existing, { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }, 1, t1);
    expect(same).toMatchObject({ changed: false, transitioned: false });
    expect(same.conditions).toEqual(existing);
    const updated = setCondition(existing, { type: 'Accepted', status: 'False', reason: 'Invalid', message: 'bad' }, 2, t1);
    expect(updated.conditions.map((c) => c.type)).toEqual(['Accepted', 'Ready']); // order kept
    expect(JSON.stringify(existing)).toBe(frozen);
  });

  it('rejects reasons that are not CamelCase', () => {
    for (const reason of ['not camel', 'lowerStart', '', 'With-Dash']) {
      expect(() => setCondition([], { type: 'Ready', status: 'True', reason, message: '' }, 1)).toThrow(/CamelCase/);
    }
  });

  it('finds, tests and removes conditions', () => {
    const { conditions } = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Ready', message: '' }, 1, t0);
    expect(findCondition(conditions, 'Ready')?.status).toBe('True');
    expect(isConditionTrue(conditions, 'Ready')).toBe(true);
    expect(isConditionTrue(conditions, 'Accepted')).toBe(false);
    expect(removeCondition(conditions, 'Ready')).toEqual({ conditions: [], changed: true });
    expect(removeCondition(conditions, 'Other').changed).toBe(false);
  });
});
