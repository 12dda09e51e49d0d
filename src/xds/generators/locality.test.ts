// Locality load balancing as Istio computes it (pilot loadbalancer.go): priorities by shared locality, region
// failover, failoverPriority labels, distribute weights; and which proxies share one computed assignment.
import { describe, expect, it } from '@jest/globals';
import type { LocalityLoadBalancerSetting } from '../../api/index.js';
import { checkMessage } from '../proto-check.js';
import { TypeUrl } from '../protos.js';
import { encodeResource } from '../resource.js';
import { grpcDecode } from '../testing/grpc-validation.js';
import {
  assignmentMessage,
  localityRule,
  localize,
  parseLocality,
  placementKey,
  placementOf,
  withTopologyLabels,
  type LocalityGroup,
  type LocalityRule,
  type ProxyPlacement,
} from './locality.js';

let ip = 1;
/** A locality group with `n` endpoints (weight 1 each, or `labels` per endpoint). */
function group(locality: string, labels: Array<Record<string, string>> = [{}]): LocalityGroup {
  const l = parseLocality(locality);
  const endpoints = labels.map((lab) => ({
    lbEndpoint: { endpoint: { address: { socket_address: { address: `10.0.0.${ip++}`, port_value: 80 } } }, load_balancing_weight: { value: 1 }, health_status: 'HEALTHY' },
    weight: 1,
    labels: withTopologyLabels(lab, l),
  }));
  return { locality: l, endpoints, weight: endpoints.length, priority: 0 };
}
const at = (locality: string, labels: Record<string, string> = {}): ProxyPlacement => ({ locality: parseLocality(locality), labels: withTopologyLabels(labels, parseLocality(locality)) });
const failover = (setting: LocalityLoadBalancerSetting = {}): LocalityRule => ({ setting, failover: true });
/** `locality@priority` per group, in order. */
const summary = (groups: LocalityGroup[]) => groups.map((g) => `${g.locality.region}/${g.locality.zone}/${g.locality.subZone}@${g.priority}:${g.weight}x${g.endpoints.length}`);

const mesh = [group('us/a/1'), group('us/a/2'), group('us/b'), group('eu/c'), group('ap/d')];

describe('when locality load balancing applies (Istio defaults)', () => {
  it('fails over by locality only with outlier detection; distribute applies regardless; enabled: false turns both off', () => {
    expect(localityRule({})).toBeUndefined();
    expect(localityRule({ outlierDetection: { consecutive5xxErrors: 1 } })).toEqual({ setting: {}, failover: true });
    const distribute = { distribute: [{ from: '*', to: { us: 100 } }] };
    expect(localityRule({ loadBalancer: { localityLbSetting: distribute } })).toEqual({ setting: distribute, failover: false });
    expect(localityRule({ loadBalancer: { localityLbSetting: { enabled: false } }, outlierDetection: {} })).toBeUndefined();
    expect(localityRule({ loadBalancer: { localityLbSetting: { failover: [{ from: 'us', to: 'eu' }] } } })).toBeUndefined();
  });
});

describe('failover', () => {
  it('puts the same subzone first, then zone, region, other regions (priorities without gaps)', () => {
    expect(summary(localize(mesh, failover(), at('us/a/1')))).toEqual(['us/a/1@0:1x1', 'us/a/2@1:1x1', 'us/b/@2:1x1', 'eu/c/@3:1x1', 'ap/d/@3:1x1']);
    // No subzone of the proxy's own: the nearest present level is priority 0.
    expect(summary(localize(mesh, failover(), at('eu/c')))).toEqual(['us/a/1@1:1x1', 'us/a/2@1:1x1', 'us/b/@1:1x1', 'eu/c/@0:1x1', 'ap/d/@1:1x1']);
  });

  it('sends a region to its failover region before the others', () => {
    const rule = failover({ failover: [{ from: 'us', to: 'ap' }] });
    expect(summary(localize(mesh, rule, at('us/b')))).toEqual(['us/a/1@1:1x1', 'us/a/2@1:1x1', 'us/b/@0:1x1', 'eu/c/@3:1x1', 'ap/d/@2:1x1']);
    // A region without a rule keeps the default order.
    expect(summary(localize(mesh, rule, at('eu/c')))).toEqual(['us/a/1@1:1x1', 'us/a/2@1:1x1', 'us/b/@1:1x1', 'eu/c/@0:1x1', 'ap/d/@1:1x1']);
  });

  it('orders by failoverPriority labels, splitting a locality whose endpoints differ, and honours key=value', () => {
    const groups = [group('us/a', [{ version: 'v1', tier: 'x' }, { version: 'v2', tier: 'x' }]), group('eu/c', [{ version: 'v1', tier: 'y' }])];
    const rule = failover({ failoverPriority: ['version', 'tier'] });
    // Matching both labels: 0; only the first: 1; not the first: 2.
    expect(summary(localize(groups, rule, at('eu/c', { version: 'v1', tier: 'x' })))).toEqual(['us/a/@0:1x1', 'us/a/@2:1x1', 'eu/c/@1:1x1']);
    const pinned = failover({ failoverPriority: ['version=v2'] });
    const byVersion = (gs: LocalityGroup[]) => gs.map((g) => `${g.locality.region}:${g.endpoints.map((e) => e.labels.version).join(',')}@${g.priority}`);
    expect(byVersion(localize(groups, pinned, at('eu/c', { version: 'v1' })))).toEqual(['us:v2@0', 'us:v1@1', 'eu:v1@1']);
    // Topology labels come from localities: the proxy's zone first.
    const zone = failover({ failoverPriority: ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone'] });
    expect(summary(localize(groups, zone, at('eu/c', { app: 'c' })))).toEqual(['us/a/@1:2x2', 'eu/c/@0:1x1']);
    // A proxy without labels gets no label priorities (Istio's behaviour).
    expect(summary(localize(groups, rule, { locality: parseLocality('eu/c'), labels: {} }))).toEqual(['us/a/@0:2x2', 'eu/c/@0:1x1']);
  });

  it('composes failoverPriority with explicit region failover', () => {
    const groups = [group('us/a', [{ v: '1' }, { v: '2' }]), group('eu/c', [{ v: '1' }]), group('ap/d', [{ v: '1' }])];
    const rule = failover({ failoverPriority: ['v'], failover: [{ from: 'us', to: 'ap' }] });
    expect(summary(localize(groups, rule, at('us/a', { v: '1' })))).toEqual(['us/a/@0:1x1', 'us/a/@3:1x1', 'eu/c/@2:1x1', 'ap/d/@1:1x1']);
  });

  it('ignores a network label mismatch except to order after everything else', () => {
    const groups = [group('us/a', [{ 'topology.istio.io/network': 'n2', v: '1' }, { 'topology.istio.io/network': 'n1', v: '2' }])];
    const rule = failover({ failoverPriority: ['topology.istio.io/network', 'v'] });
    // n1/v2 differs on v only (priority 1 of 2); n2/v1 differs on the network only: after everything (2 + 0).
    const byV = localize(groups, rule, at('us/a', { 'topology.istio.io/network': 'n1', v: '1' })).map((g) => `${g.endpoints[0]!.labels.v}@${g.priority}`);
    expect(byV).toEqual(['2@0', '1@1']);
  });
});

describe('distribute', () => {
  const rule = (distribute: NonNullable<LocalityLoadBalancerSetting['distribute']>): LocalityRule => ({ setting: { distribute }, failover: false });

  it('gives the proxies in `from` the weights, and leaves out localities the rule does not name', () => {
    const r = rule([{ from: 'us/a/*', to: { 'us/a/1': 80, 'us/b': 20 } }]);
    expect(summary(localize(mesh, r, at('us/a/2')))).toEqual(['us/a/1@0:80x1', 'us/b/@0:20x1']);
    // Proxies elsewhere get every locality, as it is.
    expect(summary(localize(mesh, r, at('eu/c')))).toEqual(summary(mesh));
  });

  it('shares a wildcard target among its localities by their own weights (rounded up), first entry matching wins', () => {
    const groups = [group('us/a', [{}, {}]), group('us/b'), group('eu/c')];
    const r = rule([{ from: 'eu/*', to: { 'us/*': 80, eu: 20 } }, { from: '*', to: { eu: 100 } }]);
    expect(summary(localize(groups, r, at('eu/c')))).toEqual(['us/a/@0:54x2', 'us/b/@0:27x1', 'eu/c/@0:20x1']);
    expect(summary(localize(groups, r, at('ap/d')))).toEqual(['eu/c/@0:100x1']);
  });
});

describe('placement keys: what proxies share one computed assignment', () => {
  it('failover: the locality (and the failoverPriority labels); distribute: the matching entry', () => {
    const f = failover();
    expect(placementKey(f, at('us/a', { app: 'x' }))).toBe(placementKey(f, at('us/a', { app: 'y' })));
    expect(placementKey(f, at('us/a'))).not.toBe(placementKey(f, at('us/b')));
    const labelled = failover({ failoverPriority: ['app'] });
    expect(placementKey(labelled, at('us/a', { app: 'x' }))).not.toBe(placementKey(labelled, at('us/a', { app: 'y' })));
    const d: LocalityRule = { setting: { distribute: [{ from: 'us/*', to: { us: 100 } }] }, failover: true };
    expect(placementKey(d, at('us/a'))).toBe(placementKey(d, at('us/b')));
    expect(placementKey(d, at('eu/a'))).not.toBe(placementKey(d, at('us/b')));
  });

  it("reads the proxy's locality from its topology labels, the istio-locality label, then the node", () => {
    const node = { region: 'r', zone: 'z', sub_zone: '' };
    expect(placementOf({ locality: node, metadata: {} }).locality).toEqual({ region: 'r', zone: 'z', subZone: '' });
    expect(placementOf({ locality: node, metadata: { LABELS: { 'istio-locality': 'a.b.c' } } }).locality).toEqual({ region: 'a', zone: 'b', subZone: 'c' });
    const labelled = placementOf({ locality: node, metadata: { LABELS: { 'topology.kubernetes.io/zone': 'zz', app: 'x' } } });
    expect(labelled).toEqual({ locality: { region: '', zone: 'zz', subZone: '' }, labels: { 'topology.kubernetes.io/zone': 'zz', app: 'x' } });
  });
});

describe('the assignment message', () => {
  it('is valid for Envoy and accepted by grpc-js-xds with priorities and weights', () => {
    const message = assignmentMessage('outbound|80||a', localize(mesh, failover({ failover: [{ from: 'us', to: 'ap' }] }), at('us/b')));
    expect(checkMessage('envoy.config.endpoint.v3.ClusterLoadAssignment', message)).toEqual([]);
    const decoded = grpcDecode(encodeResource(TypeUrl.endpoint, 'outbound|80||a', message));
    expect(decoded.error).toBeUndefined();
    expect((decoded.value as { endpoints: Array<{ priority: number }> }).endpoints.map((e) => e.priority)).toEqual([1, 1, 0, 3, 2]);
  });
});
