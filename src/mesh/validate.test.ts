import { describe, expect, it } from '@jest/globals';
import type { DestinationRule, Gateway, MeshPolicy, ServiceEntry, VirtualService, WorkloadEntry } from '../api/index.js';
import { validateDestinationRule } from './destinationrule.js';
import { validateGateway } from './gateway.js';
import { qualifyHost } from './hosts.js';
import { memoryLookup, type MeshObjects } from './lookup.js';
import { validateMeshPolicy } from './meshpolicy.js';
import { validateServiceEntry } from './serviceentry.js';
import { validateVirtualService } from './virtualservice.js';
import { validateWorkloadEntry } from './workloadentry.js';

const ns = 'shop';
const REVIEWS = 'reviews.shop.svc.cluster.local';
const meta = (name: string, created = '2026-01-01T00:00:00Z', namespace = ns) => ({ name, namespace, creationTimestamp: created });

const reviewsEntry: ServiceEntry = {
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'ServiceEntry',
  metadata: meta('reviews'),
  spec: { hosts: [REVIEWS], ports: [{ number: 9080, name: 'grpc', protocol: 'GRPC' }], location: 'MESH_INTERNAL', workloadSelector: { labels: { app: 'reviews' } } },
};
const reviewsRule = (name = 'reviews', created?: string, subsets = ['v1', 'v2']): DestinationRule => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'DestinationRule',
  metadata: meta(name, created),
  spec: { host: 'reviews', subsets: subsets.map((s) => ({ name: s, labels: { version: s } })) },
});
const split = (subsetB = 'v2', gateways?: string[]): VirtualService => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'VirtualService',
  metadata: meta('reviews-split'),
  spec: {
    hosts: ['reviews'],
    ...(gateways ? { gateways } : {}),
    http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: subsetB }, weight: 20 }] }],
  },
});
const lookup = (objects: MeshObjects) => memoryLookup(objects, qualifyHost);

describe('VirtualService validation', () => {
  it('accepts routes whose hosts and subsets resolve', () => {
    const v = validateVirtualService(split(), lookup({ serviceEntries: [reviewsEntry], destinationRules: [reviewsRule()] }));
    expect(v).toMatchObject({ accepted: true, reason: 'Accepted' });
  });

  it('names the missing subset and the DestinationRule it looked in', () => {
    const v = validateVirtualService(split('v3'), lookup({ serviceEntries: [reviewsEntry], destinationRules: [reviewsRule()] }));
    expect(v).toMatchObject({ accepted: false, reason: 'SubsetNotFound' });
    expect(v.message).toBe('spec.http[0].route[1].destination.subset: subset v3 is not defined in DestinationRule shop/reviews (subsets: v1, v2)');
  });

  it('says when no DestinationRule exists for the host', () => {
    const v = validateVirtualService(split(), lookup({ serviceEntries: [reviewsEntry] }));
    expect(v.reason).toBe('SubsetNotFound');
    expect(v.message).toContain(`no DestinationRule for host ${REVIEWS}`);
  });

  it('reports an unknown host before looking for subsets', () => {
    const v = validateVirtualService(split(), lookup({ destinationRules: [reviewsRule()] }));
    expect(v.reason).toBe('HostNotFound');
    expect(v.message).toContain(`spec.http[0].route[0].destination.host: no Service or ServiceEntry declares host ${REVIEWS}`);
  });

  it('resolves a Kubernetes Service by its short name', () => {
    const v = validateVirtualService(
      { ...split(), spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] } },
      lookup({ services: [{ metadata: { name: 'reviews', namespace: ns } }] }),
    );
    expect(v.accepted).toBe(true);
  });

  it('takes name.namespace as written, as Istio does, and says which Service was likely meant', () => {
    const v = validateVirtualService(
      { ...split(), spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews.shop' } }] }] } },
      lookup({ services: [{ metadata: { name: 'reviews', namespace: ns } }] }),
    );
    expect(v).toMatchObject({ accepted: false, reason: 'HostNotFound' });
    expect(v.message).toBe(
      'spec.http[0].route[0].destination.host: no Service or ServiceEntry declares host reviews.shop; a host with a dot is taken as written: did you mean reviews.shop.svc.cluster.local?',
    );
  });

  it('does not route to an ExternalName Service: it is a DNS alias with no endpoints in the mesh', () => {
    const v = validateVirtualService(
      { ...split(), spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] } },
      lookup({ services: [{ metadata: { name: 'reviews', namespace: ns }, spec: { type: 'ExternalName', externalName: 'reviews.example.com' } }] }),
    );
    expect(v).toMatchObject({ accepted: false, reason: 'HostNotFound' });
  });

  it('requires the gateways it binds to', () => {
    const objects = { serviceEntries: [reviewsEntry], destinationRules: [reviewsRule()] };
    expect(validateVirtualService(split('v2', ['mesh', 'edge']), lookup(objects))).toMatchObject({ reason: 'GatewayNotFound', message: 'spec.gateways[1]: Gateway shop/edge not found' });
    const edge: Gateway = { apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', metadata: meta('edge'), spec: { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] } };
    expect(validateVirtualService(split('v2', ['mesh', 'edge']), lookup({ ...objects, gateways: [edge] })).accepted).toBe(true);
  });
});

describe('DestinationRule validation', () => {
  it('accepts two rules for one host: which one configures it is a conflict, not a verdict (model/conflicts.test.ts)', () => {
    const older = reviewsRule('reviews', '2026-01-01T00:00:00Z');
    const newer = reviewsRule('reviews-too', '2026-02-01T00:00:00Z');
    const objects = lookup({ serviceEntries: [reviewsEntry], destinationRules: [older, newer] });
    expect(validateDestinationRule(older, objects).accepted).toBe(true);
    expect(validateDestinationRule(newer, objects).accepted).toBe(true);
  });

  it('reports a host nothing declares', () => {
    expect(validateDestinationRule(reviewsRule(), lookup({})).reason).toBe('HostNotFound');
  });

  it("refuses duplicate cookie attribute names and zone aware failover Istio refuses, naming the field (Istio's rules the CRD cannot afford in CEL)", () => {
    const objects = lookup({ serviceEntries: [reviewsEntry] });
    const rule = reviewsRule();
    rule.spec.subsets![1]!.trafficPolicy = {
      portLevelSettings: [{
        port: { number: 9080 },
        loadBalancer: { consistentHash: { httpCookie: { name: 'c', attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'SameSite', value: 'Lax' }] } } },
      }],
    };
    rule.spec.trafficPolicy = { loadBalancer: { zoneAwareLbSetting: { failover: [{ from: 'us-east', to: 'us-east' }, { from: 'us-east/zone-a', to: 'eu-*' }] } } };
    const v = validateDestinationRule(rule, objects);
    expect(v.accepted).toBe(false);
    expect(v.message.split('; ')).toEqual([
      'spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[0]: zone aware lb failover settings must specify different regions',
      'spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[1]: zone aware lb failover only specifies region (zone and subzone failover are handled automatically)',
      "spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[1]: zone aware lb failover region should not contain '*' wildcard",
      'spec.subsets[1].trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash.httpCookie.attributes[1].name: duplicate cookie attribute name SameSite',
    ]);
    rule.spec.subsets![1]!.trafficPolicy = undefined;
    rule.spec.trafficPolicy = { loadBalancer: { zoneAwareLbSetting: { failover: [{ from: 'us-east', to: 'us-west' }] } } };
    expect(validateDestinationRule(rule, objects).accepted).toBe(true);
  });
});

describe('Gateway validation', () => {
  const gw = (name: string, created: string, host: string, protocol: 'HTTP' | 'HTTPS' = 'HTTP'): Gateway => ({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Gateway',
    metadata: meta(name, created),
    spec: { selector: { app: 'edge' }, servers: [{ port: { number: 8080, name: 'web', protocol }, hosts: [host] }] },
  });
  it('refuses a TLS host and port that an older Gateway on the same workload claims', () => {
    const first = gw('first', '2026-01-01T00:00:00Z', 'shop.example.com', 'HTTPS');
    const second = gw('second', '2026-01-02T00:00:00Z', '*.example.com', 'HTTPS');
    const objects = lookup({ gateways: [first, second] });
    expect(validateGateway(first, objects).accepted).toBe(true);
    expect(validateGateway(second, objects)).toMatchObject({ accepted: false, reason: 'HostConflict' });
    expect(validateGateway(second, objects).message).toContain('Gateway shop/first (servers[0])');
  });
  it("shares a plain HTTP host and port with an older Gateway, as Istio does (Istio's samples all claim * on port 80)", () => {
    const first = gw('first', '2026-01-01T00:00:00Z', '*');
    const second = gw('second', '2026-01-02T00:00:00Z', '*');
    const grpc: Gateway = { ...gw('third', '2026-01-03T00:00:00Z', '*'), spec: { selector: { app: 'edge' }, servers: [{ port: { number: 8080, name: 'grpc', protocol: 'grpc' }, hosts: ['*'] }] } };
    const objects = lookup({ gateways: [first, second, grpc] });
    expect(validateGateway(second, objects)).toMatchObject({
      accepted: true,
      message: "1 server(s) on 8080/HTTP; hosts shared on port 8080 with Gateway shop/first (servers[0]): their VirtualServices' routes are merged, the oldest first",
    });
    expect(validateGateway(grpc, objects).accepted).toBe(true);
  });
  it('leaves Gateways of other namespaces alone: they never configure the same proxy', () => {
    const first = gw('first', '2026-01-01T00:00:00Z', 'shop.example.com', 'HTTPS');
    const elsewhere = { ...gw('second', '2026-01-02T00:00:00Z', 'shop.example.com', 'HTTPS'), metadata: meta('second', '2026-01-02T00:00:00Z', 'web') };
    expect(validateGateway(elsewhere, lookup({ gateways: [first, elsewhere] })).accepted).toBe(true);
  });
  it('allows distinct hosts on one port, and refuses a second protocol there', () => {
    const first = gw('first', '2026-01-01T00:00:00Z', 'a.example.com');
    expect(validateGateway(gw('b', '2026-01-02T00:00:00Z', 'b.example.com'), lookup({ gateways: [first] })).accepted).toBe(true);
    expect(validateGateway(gw('c', '2026-01-02T00:00:00Z', 'c.example.com', 'HTTPS'), lookup({ gateways: [first] })).reason).toBe('PortConflict');
  });
});

describe('ServiceEntry and WorkloadEntry validation', () => {
  const we: WorkloadEntry = {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'WorkloadEntry',
    metadata: meta('reviews-v1'),
    spec: { address: '127.0.0.2', labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'reviews' },
  };
  it('counts the WorkloadEntries a ServiceEntry selects', () => {
    expect(validateServiceEntry(reviewsEntry, lookup({ workloadEntries: [we] })).message).toContain('1 WorkloadEntry endpoint(s) selected');
  });
  it('refuses endpoint ports that name no port of the entry', () => {
    const se: ServiceEntry = { ...reviewsEntry, spec: { hosts: ['x.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: '127.0.0.9', ports: { grpc: 9000 } }] } };
    expect(validateServiceEntry(se, lookup({}))).toMatchObject({ reason: 'PortNotFound', message: "spec.endpoints[0].ports: port name grpc is not one of the entry's ports (http)" });
  });
  it('requires the ServiceAccount that is the workload identity', () => {
    expect(validateWorkloadEntry(we, lookup({})).reason).toBe('ServiceAccountNotFound');
    const ok = validateWorkloadEntry(we, lookup({ serviceAccounts: [{ metadata: { name: 'reviews', namespace: ns } }], serviceEntries: [reviewsEntry] }));
    expect(ok).toMatchObject({ accepted: true, message: '127.0.0.2; endpoint of ServiceEntry reviews' });
  });
});

describe('MeshPolicy validation', () => {
  const policy = (name: string, created: string, spec: MeshPolicy['spec'], namespace = ns): MeshPolicy => ({
    apiVersion: 'weft.dev/v1alpha1', kind: 'MeshPolicy', metadata: meta(name, created, namespace), spec,
  });
  it('lets the oldest policy of a scope own mtls; authorization composes', () => {
    const a = policy('a', '2026-01-01T00:00:00Z', { mtls: { mode: 'STRICT' } });
    const b = policy('b', '2026-01-02T00:00:00Z', { mtls: { mode: 'DISABLE' } });
    const c = policy('c', '2026-01-03T00:00:00Z', { authorization: { action: 'DENY', rules: [{ to: [{ paths: ['/admin'] }] }] } });
    const objects = lookup({ meshPolicies: [a, b, c] });
    expect(validateMeshPolicy(a, objects).accepted).toBe(true);
    expect(validateMeshPolicy(b, objects)).toMatchObject({ reason: 'Conflict', message: 'spec.mtls: MeshPolicy shop/a is older and already sets mtls for the same namespace shop' });
    expect(validateMeshPolicy(c, objects).accepted).toBe(true);
  });
  it('describes mesh-wide and workload scopes', () => {
    expect(validateMeshPolicy(policy('m', '2026-01-01T00:00:00Z', { mtls: { mode: 'STRICT' } }, 'weft-system'), lookup({})).message).toBe('applies to the whole mesh');
    const w = policy('w', '2026-01-01T00:00:00Z', { selector: { matchLabels: { app: 'reviews' } }, mtls: { mode: 'STRICT' } });
    expect(validateMeshPolicy(w, lookup({})).message).toBe('applies to workloads labelled app=reviews in namespace shop');
  });
});
