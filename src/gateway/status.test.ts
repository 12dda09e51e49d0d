// How a Gateway's status reads in each state a user can meet: pending, rolling out, stuck, blocked, programmed,
// missing credentials, refused.
import { describe, expect, it } from '@jest/globals';
import type { Gateway, GatewaySpec } from '../api/index.js';
import type { Problem, Verdict } from '../mesh/verdict.js';
import { credentialProblems } from './credentials.js';
import { gatewayAddresses, gatewayConditions, programmedCondition, serverStatuses, type Deployment, type GatewayObservation, type Service } from './status.js';

function gateway(spec: Partial<GatewaySpec> = {}): Gateway {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Gateway',
    metadata: { name: 'edge', namespace: 'shop', uid: 'uid-1', generation: 3 },
    spec: {
      selector: { app: 'edge' },
      servers: [
        { name: 'https', port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'a-cert' } },
        { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['a.example.com'] },
      ],
      deployment: { replicas: 2 },
      ...spec,
    },
  };
}

const accepted: Verdict = { accepted: true, reason: 'Accepted', message: '2 server(s)' };
const conflict: Problem = { reason: 'HostConflict', field: 'spec.servers[1].hosts', message: 'host a.example.com on port 80 is already claimed' };
const refused: Verdict = { accepted: false, reason: 'HostConflict', message: 'm', problems: [conflict] };

const available: Deployment = {
  spec: { replicas: 2, selector: {}, template: {} },
  status: { availableReplicas: 2, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: '' }] },
};
const service: Service = { spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'] }, status: { loadBalancer: {} } };
const seen = (over: Partial<GatewayObservation> = {}): GatewayObservation => ({ deployment: available, service, blocked: [], credentialProblems: [], ...over });

describe('Programmed', () => {
  it('is True once the Deployment is available and the Service exists, and says where and what is not checked yet', () => {
    expect(programmedCondition(gateway(), accepted, seen())).toEqual({
      type: 'Programmed',
      status: 'True',
      reason: 'Programmed',
      message: '2/2 replicas available; reachable at 10.96.0.10 (load balancer address pending); config serving not reported (no xDS server)',
    });
  });

  it('is Unknown while things are on their way, and False when they are stuck', () => {
    expect(programmedCondition(gateway(), accepted, seen({ deployment: undefined }))).toMatchObject({ status: 'Unknown', reason: 'DeploymentPending' });
    const rolling: Deployment = { ...available, status: { availableReplicas: 0, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: '' }] } };
    expect(programmedCondition(gateway(), accepted, seen({ deployment: rolling }))).toMatchObject({
      status: 'Unknown',
      reason: 'DeploymentPending',
      message: 'Deployment shop/edge is rolling out: 0/2 replicas available',
    });
    const stuck: Deployment = { ...available, status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "edge-1" has timed out progressing.' }] } };
    expect(programmedCondition(gateway(), accepted, seen({ deployment: stuck }))).toMatchObject({ status: 'False', reason: 'DeploymentNotAvailable' });
    const failing: Deployment = { ...available, status: { conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "edge-1" is forbidden: exceeded quota' }] } };
    expect(programmedCondition(gateway(), accepted, seen({ deployment: failing }))).toMatchObject({
      status: 'False',
      reason: 'DeploymentReplicaFailure',
      message: 'Deployment shop/edge cannot create pods: pods "edge-1" is forbidden: exceeded quota',
    });
    expect(programmedCondition(gateway(), accepted, seen({ service: undefined }))).toMatchObject({ status: 'Unknown', reason: 'ServicePending' });
  });

  it('is False with NameConflict when a generated name is taken', () => {
    expect(programmedCondition(gateway(), accepted, seen({ blocked: [{ kind: 'Service', name: 'edge', message: 'Service edge already exists' }] }))).toMatchObject({
      status: 'False',
      reason: 'NameConflict',
      message: 'Service edge already exists',
    });
  });

  it('is False with ApplyFailed when the API server refuses a generated object', () => {
    expect(programmedCondition(gateway(), accepted, seen({ applyError: 'admission webhook "policy.example.com" denied the request' }))).toEqual({
      type: 'Programmed',
      status: 'False',
      reason: 'ApplyFailed',
      message: 'applying the generated objects failed (retrying): admission webhook "policy.example.com" denied the request',
    });
  });

  it('follows the xDS server once it reports, and is not judged at all without deployment or xDS', () => {
    expect(programmedCondition(gateway(), accepted, seen({ serving: { served: false, reason: 'Rejected', message: '1 proxy NACKed: bad route' } }))).toMatchObject({
      status: 'False',
      reason: 'Rejected',
    });
    expect(programmedCondition(gateway(), accepted, seen({ serving: { served: true, message: '2/2 proxies ACKed' } }))!.message).toMatch(/; 2\/2 proxies ACKed$/);
    expect(programmedCondition(gateway({ deployment: undefined }), accepted, seen())).toBeUndefined();
    expect(programmedCondition(gateway({ deployment: undefined }), accepted, seen({ serving: { served: true, message: 'ok' } }))).toMatchObject({ status: 'True' });
  });

  it('keeps reporting the last good deployment of a Gateway that is no longer accepted, and says so', () => {
    expect(programmedCondition(gateway(), refused, seen())!.message).toMatch(/serving the last accepted spec$/);
    expect(programmedCondition(gateway(), refused, seen({ deployment: undefined }))).toMatchObject({ status: 'False', reason: 'NotAccepted' });
  });
});

describe('ResolvedRefs and per-server status', () => {
  const missing = credentialProblems(gateway(), () => false);

  it('names the server and the Secret that is missing', () => {
    expect(missing).toEqual([
      {
        reason: 'CredentialNotFound',
        field: 'spec.servers[0].tls.credentialName',
        message: 'Secret shop/a-cert of type kubernetes.io/tls not found: create it (kubectl create secret tls a-cert -n shop --cert=... --key=...)',
      },
    ]);
    expect(credentialProblems(gateway(), (ns, name) => ns === 'shop' && name === 'a-cert')).toEqual([]);
    const conditions = gatewayConditions(gateway(), accepted, seen({ credentialProblems: missing }));
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Programmed', 'True', 'Programmed'],
      ['ResolvedRefs', 'False', 'CredentialNotFound'],
    ]);
  });

  it('gives each server its own Accepted, ResolvedRefs and Programmed', () => {
    const programmed = programmedCondition(gateway(), accepted, seen());
    const servers = serverStatuses(gateway(), accepted, programmed, missing, undefined, new Date('2026-01-01T00:00:00Z'));
    expect(servers.map((s) => [s.index, s.name, s.port, s.conditions!.map((c) => `${c.type}=${c.status}/${c.reason}`)])).toEqual([
      [0, 'https', 443, ['Accepted=True/Accepted', 'ResolvedRefs=False/CredentialNotFound', 'Programmed=False/CredentialNotFound']],
      [1, undefined, 80, ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed']],
    ]);
    expect(servers[0]!.conditions![0]).toMatchObject({ observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' });
  });

  it('marks the conflicting server of a refused Gateway, and keeps transition times that did not change', () => {
    const before = serverStatuses(gateway(), accepted, undefined, [], undefined, new Date('2026-01-01T00:00:00Z'));
    const after = serverStatuses(gateway(), refused, undefined, [], before, new Date('2026-02-01T00:00:00Z'));
    expect(after[1]!.conditions!.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'HostConflict', lastTransitionTime: '2026-02-01T00:00:00Z' });
    expect(after[0]!.conditions!.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect(after[0]!.conditions!.some((c) => c.type === 'Programmed')).toBe(false); // nothing deployed: not judged
  });
});

describe('gatewayAddresses', () => {
  it('lists load balancer ingress first, then cluster IPs', () => {
    expect(gatewayAddresses(undefined)).toEqual([]);
    expect(
      gatewayAddresses({
        spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00::10'] },
        status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.net' }] } },
      }),
    ).toEqual([
      { type: 'IPAddress', value: '203.0.113.7' },
      { type: 'Hostname', value: 'lb.example.net' },
      { type: 'IPAddress', value: '10.96.0.10' },
      { type: 'IPAddress', value: 'fd00::10' },
    ]);
    expect(gatewayAddresses({ spec: { clusterIP: 'None' } })).toEqual([]);
  });
});
