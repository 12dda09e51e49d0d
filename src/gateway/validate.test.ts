// Gateway rules beyond the mesh's: names that make valid object names, and no two generated Deployments whose
// selectors overlap.
import { describe, expect, it } from '@jest/globals';
import type { Gateway, GatewaySpec } from '../api/index.js';
import { validateGatewayDeployment } from './validate.js';

function gateway(name: string, created: string, spec: Partial<GatewaySpec>): Gateway {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Gateway',
    metadata: { name, namespace: 'shop', uid: name, creationTimestamp: created },
    spec: { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }], deployment: {}, ...spec },
  };
}

describe('validateGatewayDeployment', () => {
  it('has nothing to say about a Gateway without deployment', () => {
    const gw = gateway('Not.A.Label', '2026-01-01T00:00:00Z', { deployment: undefined });
    expect(validateGatewayDeployment(gw, [gw])).toEqual([]);
  });

  it('refuses a name that cannot name a Service', () => {
    const gw = gateway('edge.v2', '2026-01-01T00:00:00Z', { selector: { app: 'edge' } });
    expect(validateGatewayDeployment(gw, [gw])).toEqual([
      expect.objectContaining({ reason: 'InvalidName', field: 'metadata.name', message: expect.stringContaining('"edge.v2" is not') }),
    ]);
  });

  it('gives an overlapping workload to the older Gateway and tells the newer one why', () => {
    const older = gateway('edge', '2026-01-01T00:00:00Z', { selector: { app: 'edge' } });
    const newer = gateway('edge-canary', '2026-01-02T00:00:00Z', { selector: { app: 'edge', track: 'canary' } });
    const apart = gateway('other', '2026-01-02T00:00:00Z', { selector: { app: 'other' } });
    const all = [older, newer, apart];
    expect(validateGatewayDeployment(older, all)).toEqual([]);
    expect(validateGatewayDeployment(apart, all)).toEqual([]);
    expect(validateGatewayDeployment(newer, all)).toEqual([
      {
        reason: 'DeploymentConflict',
        field: 'spec.selector',
        message:
          'Gateway shop/edge already deploys pods labelled {app=edge}, which this selector {app=edge,track=canary} would also select: ' +
          'give this Gateway a selector of its own, or remove its spec.deployment to configure that workload instead',
      },
    ]);
    // A Gateway that only configures the workload (no deployment) does not compete for it.
    const configOnly = gateway('edge-config', '2025-12-01T00:00:00Z', { selector: { app: 'edge' }, deployment: undefined });
    expect(validateGatewayDeployment(older, [configOnly, ...all])).toEqual([]);
  });
});
