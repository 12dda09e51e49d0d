// Services resolved by DNS (ServiceEntry `resolution: DNS` or `DNS_ROUND_ROBIN`): the proxy resolves the names
// itself, so the cluster carries its endpoints inline (no EDS). The names are the endpoints' addresses, or the
// service's host when it lists none (Istio's rule). Envoy gets STRICT_DNS for DNS (every name resolved, every
// address used) and LOGICAL_DNS for DNS_ROUND_ROBIN (one name, a connection to whichever address it returns);
// gRPC supports LOGICAL_DNS only, with exactly one name, so a proxyless client gets the first.
import { selects } from '../../mesh/labels.js';
import type { ServiceModel, ServicePortModel } from '../../mesh/model/index.js';
import type { ProtoMessage } from '../resource.js';
import { endpointPort } from './endpoints.js';
import type { Flavor } from './types.js';

export function resolvedByDns(service: ServiceModel): boolean {
  return service.resolution === 'DNS' || service.resolution === 'DNS_ROUND_ROBIN';
}

/** The cluster fields that make `cluster_name` a DNS cluster for `port` (and `subset`'s endpoints). */
export function dnsClusterFields(service: ServiceModel, port: ServicePortModel, subsetName: string | undefined, clusterName: string, flavor: Flavor): ProtoMessage {
  const subset = subsetName ? service.policy?.subsets.find((s) => s.name === subsetName) : undefined;
  const names: Array<{ address: string; port: number }> = [];
  for (const e of service.endpoints) {
    if (subset && !selects(subset.labels, e.labels)) continue;
    const portValue = endpointPort(e, port);
    if (portValue !== undefined && !names.some((n) => n.address === e.address && n.port === portValue)) names.push({ address: e.address, port: portValue });
  }
  if (names.length === 0) names.push({ address: service.host, port: port.targetPort ?? port.number });
  const logical = flavor === 'proxyless' || service.resolution === 'DNS_ROUND_ROBIN';
  const used = logical ? names.slice(0, 1) : names;
  return {
    type: logical ? 'LOGICAL_DNS' : 'STRICT_DNS',
    // Istio's default: IPv4 answers only (an AAAA answer on an IPv4-only pod network would be a dead end).
    ...(flavor === 'envoy' ? { dns_lookup_family: 'V4_ONLY' } : {}),
    load_assignment: {
      cluster_name: clusterName,
      endpoints: [{ lb_endpoints: used.map((n) => ({ endpoint: { address: { socket_address: { address: n.address, port_value: n.port } } } })) }],
    },
  };
}
