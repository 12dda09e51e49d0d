// DestinationRule trafficPolicy.loadBalancer.localityLbSetting (Istio networking v1 LocalityLoadBalancerSetting):
// which localities a proxy's traffic goes to, by weight (`distribute`) or in failover order (`failover`,
// `failoverPriority`). The schema holds what a field alone can say; the rules that relate fields (weights summing
// to 100, overlapping localities) are checked by the mesh's DestinationRule validation (src/mesh/locality.ts),
// which names the field.
import Type, { type Static } from 'typebox';
import { MAX, bool, cel, int, list, map, str } from './common.js';

/** A locality `region/zone/subzone`; `*` may stand for the last level given (`us-east/*`). */
const LOCALITY_PATTERN = '^[^/]+(/[^/]+){0,2}$';
/** A region alone, without wildcards (failover is region to region). */
const REGION_PATTERN = '^[^/*]+$';

export const LocalityDistribute = Type.Object(
  {
    from: str('The originating locality, region/zone/subzone; `*` may end it (`us-east/*`, or `*` for every locality).', {
      minLength: 1,
      pattern: LOCALITY_PATTERN,
    }),
    to: map(
      int('The share of traffic, in percent.', 1, 100),
      'Upstream localities (region/zone/subzone, `*` may end them) and the percentage of traffic each receives; the weights add up to 100.',
      { minProperties: 1 },
    ),
  },
  { description: 'How traffic from proxies in `from` is distributed across upstream localities.' },
);
export type LocalityDistribute = Static<typeof LocalityDistribute>;

export const LocalityFailover = Type.Object(
  {
    from: str('The originating region.', { minLength: 1, maxLength: MAX.name, pattern: REGION_PATTERN }),
    to: str('The region to fail over to when the endpoints in `from` are unhealthy.', { minLength: 1, maxLength: MAX.name, pattern: REGION_PATTERN }),
  },
  // That from and to differ is checked by the mesh's validation: a CEL rule here, nested under subsets and
  // port-level settings, is over the API server's cost budget.
  { description: 'The region traffic from `from` fails over to when its own region has no healthy endpoints.' },
);
export type LocalityFailover = Static<typeof LocalityFailover>;

export const LocalityLoadBalancerSetting = Type.Object(
  {
    distribute: Type.Optional(list(LocalityDistribute, 'Locality-weighted load balancing: per originating locality, the share each upstream locality gets.', MAX.shortList)),
    failover: Type.Optional(list(LocalityFailover, 'Region failover order: where traffic from a region goes when its own endpoints are unhealthy.', MAX.shortList)),
    failoverPriority: Type.Optional(
      list(
        str('A label key, or `key=value` to compare endpoints with that value instead of the proxy\'s own.', { minLength: 1, maxLength: MAX.host + MAX.labelValue + 1 }),
        'Ordered label keys: endpoints matching the proxy on more of the leading labels get higher priority.',
        MAX.shortList,
      ),
    ),
    enabled: Type.Optional(bool('Whether locality load balancing is enabled; true by default (set false to turn it off for this destination).')),
  },
  {
    description:
      'Locality-aware load balancing. Failover (the default) takes effect only with outlierDetection; distribute and failover are mutually exclusive.',
    ...cel({
      rule: '!has(self.distribute) || size(self.distribute) == 0 || !has(self.failover) || size(self.failover) == 0',
      message: 'distribute and failover are mutually exclusive',
      fieldPath: '.failover',
    }),
  },
);
export type LocalityLoadBalancerSetting = Static<typeof LocalityLoadBalancerSetting>;
