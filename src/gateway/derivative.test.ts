import { describe, expect, it } from '@jest/globals';
import { isDerivative } from './derivative.js';

describe('isDerivative', () => {
  it('ignores what the desired object leaves unset, and compares the rest exactly', () => {
    expect(isDerivative({ spec: { replicas: 2 } }, { spec: { replicas: 2, paused: true }, status: {} })).toBe(true);
    expect(isDerivative({ spec: { replicas: 2 } }, { spec: { replicas: 3 } })).toBe(false);
    expect(isDerivative({ spec: { template: {} } }, { spec: {} })).toBe(false);
  });

  it('compares lists item by item, and their lengths', () => {
    expect(isDerivative({ ports: [{ port: 80 }] }, { ports: [{ port: 80, protocol: 'TCP' }] })).toBe(true);
    expect(isDerivative({ ports: [{ port: 80 }] }, { ports: [{ port: 80 }, { port: 443 }] })).toBe(false);
    expect(isDerivative({ ports: [{ port: 80 }, { port: 443 }] }, { ports: [{ port: 443 }, { port: 80 }] })).toBe(false);
  });

  it('treats a zero value the API server omitted as equal', () => {
    expect(isDerivative({ hostNetwork: false, minReadySeconds: 0, name: '' }, {})).toBe(true);
    expect(isDerivative({ replicas: 0 }, { replicas: 1 })).toBe(false);
  });
});
