// A mesh kind's status gets FieldsApplied (src/mesh/not-applied.ts) for an accepted generation; a refused one drops it.
import { describe, expect, it } from '@jest/globals';
import type { DestinationRule } from '../api/index.js';
import { withFieldsApplied } from './mesh-controller.js';

describe('withFieldsApplied', () => {
  it('is added for an accepted generation only, and is a condition type the kind may drop', () => {
    const dr = { apiVersion: 'weft.dev/v1alpha1', kind: 'DestinationRule', metadata: { name: 'r', namespace: 'ns', generation: 1 }, spec: { host: 'reviews', trafficPolicy: { loadBalancer: { warmup: { duration: '30s' } } } } } as DestinationRule;
    const accepted = withFieldsApplied(dr, true, { conditionTypes: ['Programmed'] });
    expect(accepted.conditions?.map((c) => [c.type, c.status])).toEqual([['FieldsApplied', 'False']]);
    expect(accepted.conditionTypes).toEqual(['Programmed', 'FieldsApplied']);
    const refused = withFieldsApplied(dr, false, { conditionTypes: ['Programmed'] });
    expect(refused.conditions).toBeUndefined();
    expect(refused.conditionTypes).toEqual(['Programmed', 'FieldsApplied']);
  });
});
