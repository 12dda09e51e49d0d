// localityLbSetting validation, case by case from Istio's TestValidateLocalityLbSetting, and through a whole
// DestinationRule (every place a trafficPolicy appears; the field named in the message).
import { describe, expect, it } from '@jest/globals';
import type { DestinationRule, LocalityLoadBalancerSetting, ServiceEntry } from '../api/index.js';
import { validateDestinationRule } from './destinationrule.js';
import { qualifyHost } from './hosts.js';
import { localitiesProblem, localityLbProblems, localityLbWarning } from './locality.js';
import { memoryLookup } from './lookup.js';

const F = 'spec.trafficPolicy.loadBalancer.localityLbSetting';
const messages = (s: LocalityLoadBalancerSetting) => localityLbProblems(s, F).map((p) => `${p.field}: ${p.message}`);

describe('localityLbSetting validation (Istio ValidateLocalityLbSetting)', () => {
  it('accepts weights that add up to 100 and region failover', () => {
    expect(messages({ distribute: [{ from: 'a/b/c', to: { 'a/b/c': 80, 'a/b1': 20 } }] })).toEqual([]);
    expect(messages({ failover: [{ from: 'us-east', to: 'eu-west' }, { from: 'us-west', to: 'eu-east' }] })).toEqual([]);
    expect(messages({ failoverPriority: ['topology.istio.io/network', 'topology.kubernetes.io/region'] })).toEqual([]);
    expect(messages({ distribute: [{ from: 'us/*', to: { 'us/*': 70, 'eu/*': 30 } }, { from: 'eu/*', to: { 'eu/*': 100 } }] })).toEqual([]);
  });

  it('refuses totals above and below 100, naming the distribute entry', () => {
    expect(messages({ distribute: [{ from: 'a/b/c', to: { 'a/b/c': 80, 'a/b1': 25 } }] })).toEqual([`${F}.distribute[0].to: total locality weight 105 != 100`]);
    expect(messages({ distribute: [{ from: 'a/b/c', to: { 'a/b/c': 80, 'a/b1': 15 } }] })).toEqual([`${F}.distribute[0].to: total locality weight 95 != 100`]);
  });

  it('refuses a weight of 0', () => {
    expect(messages({ distribute: [{ from: 'a/b/c', to: { 'a/b/c': 0, 'a/b1': 100 } }] })[0]).toBe(`${F}.distribute[0].to[a/b/c]: locality weight must be in range [1, 100], got 0`);
  });

  it('refuses distribute together with failover', () => {
    expect(messages({ distribute: [{ from: 'a/b/c', to: { 'a/b/c': 100 } }], failover: [{ from: 'region1', to: 'region2' }] })).toEqual([
      `${F}: can not simultaneously specify 'distribute' and 'failover'`,
    ]);
  });

  it('refuses failover within one region, with wildcards or with zones', () => {
    expect(messages({ failover: [{ from: 'region1', to: 'region1' }] })).toEqual([`${F}.failover[0]: locality lb failover settings must specify different regions`]);
    expect(messages({ failover: [{ from: '*', to: 'region2' }] })).toEqual([`${F}.failover[0]: locality lb failover region should not contain '*' wildcard`]);
    expect(messages({ failover: [{ from: 'region1', to: 'region2/zone1' }] })).toEqual([`${F}.failover[0]: locality lb failover only specify region`]);
  });

  it('refuses failover with a topology label in failoverPriority (other labels are fine)', () => {
    expect(messages({ failover: [{ from: 'region1', to: 'region2' }], failoverPriority: ['topology.kubernetes.io/region'] })).toEqual([
      `${F}.failoverPriority[0]: can not simultaneously set 'failover' and topology label 'topology.kubernetes.io/region' in 'failoverPriority'`,
    ]);
    expect(messages({ failover: [{ from: 'region1', to: 'region2' }], failoverPriority: ['topology.istio.io/network', 'version=v1'] })).toEqual([]);
  });

  it('refuses overlapping or badly wildcarded localities', () => {
    expect(localitiesProblem(['us/*', 'us/zone-a'])).toBe('locality us/zone-a overlap with previous specified ones');
    expect(localitiesProblem(['us/zone-a', 'us/zone-a'])).toBe('locality us/zone-a overlap with previous specified ones');
    expect(localitiesProblem(['us', 'us/zone-a/sub'])).toBe('locality us/zone-a/sub overlap with previous specified ones');
    expect(localitiesProblem(['*', 'eu'])).toBe('locality eu overlap with previous specified ones');
    expect(localitiesProblem(['u*s'])).toBe("locality u*s wildcard '*' number can not exceed 1 and must be in the end");
    expect(localitiesProblem(['us/zone-a/x', 'us/zone-a/y', 'us/zone-b', 'eu'])).toBeUndefined();
    expect(messages({ distribute: [{ from: 'us/*', to: { 'us/*': 50, 'us/zone-a': 50 } }] })).toEqual([
      `${F}.distribute[0].to: locality us/zone-a overlap with previous specified ones`,
    ]);
    expect(messages({ distribute: [{ from: 'us', to: { us: 100 } }, { from: 'us', to: { eu: 100 } }] })).toEqual([
      `${F}.distribute: from locality us overlap with previous specified ones`,
    ]);
  });

  it('warns (does not refuse) failover without outlier detection', () => {
    expect(localityLbWarning({ failover: [{ from: 'us-east', to: 'eu-west' }] }, undefined, F)).toContain('outlier detection policy must be provided for failover');
    expect(localityLbWarning({ failoverPriority: ['version'] }, { consecutive5xxErrors: 1 }, F)).toBeUndefined();
    expect(localityLbWarning({ distribute: [{ from: '*', to: { us: 100 } }] }, undefined, F)).toBeUndefined();
  });
});

describe('localityLbSetting in a DestinationRule', () => {
  const entry: ServiceEntry = {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'ServiceEntry',
    metadata: { name: 'reviews', namespace: 'shop' },
    spec: { hosts: ['reviews.shop.svc.cluster.local'], ports: [{ number: 9080, name: 'grpc', protocol: 'GRPC' }], location: 'MESH_INTERNAL' },
  };
  const rule = (spec: Partial<DestinationRule['spec']>): DestinationRule => ({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'DestinationRule',
    metadata: { name: 'reviews', namespace: 'shop' },
    spec: { host: 'reviews', ...spec },
  });
  const lookup = memoryLookup({ serviceEntries: [entry] }, qualifyHost);
  const bad: LocalityLoadBalancerSetting = { distribute: [{ from: 'us', to: { us: 60 } }] };

  it('checks subsets and port-level settings too, naming the field', () => {
    const v = validateDestinationRule(
      rule({ subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { localityLbSetting: bad } }] } }] }),
      lookup,
    );
    expect(v).toMatchObject({ accepted: false, reason: 'InvalidLocalityLbSetting' });
    expect(v.message).toBe('spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer.localityLbSetting.distribute[0].to: total locality weight 60 != 100');
  });

  it('accepts a valid setting and says when failover cannot take effect', () => {
    const v = validateDestinationRule(rule({ trafficPolicy: { loadBalancer: { localityLbSetting: { failover: [{ from: 'us', to: 'eu' }] } } } }), lookup);
    expect(v.accepted).toBe(true);
    expect(v.message).toContain(`${F}: outlier detection policy must be provided for failover`);
  });
});
