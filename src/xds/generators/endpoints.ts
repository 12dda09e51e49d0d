// EDS: a ClusterLoadAssignment per cluster, with the service's endpoints (those a subset's labels select),
// grouped by locality. Endpoints must be IP addresses (gRPC and Envoy EDS both require it). A cluster with
// locality load balancing in force (locality.ts) carries its groups and rule as well: its assignment differs per
// proxy placement, and the config builder computes it per placement (src/xds/locality-endpoints.ts).
import { isIP } from 'node:net';
import { selects } from '../../mesh/labels.js';
import type { EndpointModel, ServiceModel, ServicePortModel } from '../../mesh/model/index.js';
import { TypeUrl } from '../protos.js';
import { resolvedByDns } from './dns.js';
import { assignmentMessage, localityRule, parseLocality, withTopologyLabels, type LocalityGroup } from './locality.js';
import { outboundCluster } from './names.js';
import { effectivePolicy } from './policy.js';
import { uniqueSources, type Generated } from './types.js';

export function serviceEndpoints(service: ServiceModel): Generated[] {
  if (resolvedByDns(service)) return []; // the proxy resolves the names: its DNS clusters carry them (dns.ts)
  const out: Generated[] = [];
  for (const port of service.ports) {
    out.push(loadAssignment(service, port, undefined));
    for (const subset of service.policy?.subsets ?? []) out.push(loadAssignment(service, port, subset.name));
  }
  return out;
}

/** The port an endpoint receives `port`'s traffic on; undefined when it does not serve `port` (an EndpointSlice not listing it). */
export function endpointPort(endpoint: EndpointModel, port: ServicePortModel): number | undefined {
  const listed = endpoint.ports[port.name];
  if (listed !== undefined || endpoint.onlyListedPorts) return listed;
  return port.targetPort ?? port.number;
}

function loadAssignment(service: ServiceModel, port: ServicePortModel, subsetName: string | undefined): Generated {
  const name = outboundCluster(service.host, port.number, subsetName);
  const subset = subsetName ? service.policy?.subsets.find((s) => s.name === subsetName) : undefined;
  const byLocality = new Map<string, LocalityGroup & { endpoints: LocalityGroup['endpoints'][number][] }>();
  const rule = localityRule(effectivePolicy(service, port.number, subsetName));
  // Labels with topology labels only where failoverPriority compares them.
  const topologyLabels = (rule?.setting.failoverPriority?.length ?? 0) > 0;
  const seen = new Set<string>();
  const used: EndpointModel[] = [];
  for (const e of service.endpoints) {
    if (subset && !selects(subset.labels, e.labels)) continue;
    if (!isIP(e.address)) continue;
    const portValue = endpointPort(e, port);
    if (portValue === undefined) continue;
    const key = `${e.address}:${portValue}`;
    if (seen.has(key)) continue; // the same address twice is an error to gRPC
    seen.add(key);
    used.push(e);
    const weight = e.weight ?? 1;
    if (weight === 0) continue;
    let group = byLocality.get(e.locality ?? '');
    if (!group) byLocality.set(e.locality ?? '', (group = { locality: parseLocality(e.locality), endpoints: [], weight: 0, priority: 0 }));
    group.endpoints.push({
      lbEndpoint: {
        endpoint: { address: { socket_address: { address: e.address, port_value: portValue } } },
        load_balancing_weight: { value: weight },
        health_status: 'HEALTHY',
      },
      weight,
      labels: topologyLabels ? withTopologyLabels(e.labels, group.locality) : e.labels,
    });
    group.weight += weight;
  }
  const groups = [...byLocality.values()];
  const sources = uniqueSources([service.declaredBy, ...used.map((e) => e.source), ...(subset && service.policy ? [service.policy.source] : [])]);
  return { typeUrl: TypeUrl.endpoint, name, message: assignmentMessage(name, groups), sources, ...(rule ? { localized: { groups, rule } } : {}) };
}
