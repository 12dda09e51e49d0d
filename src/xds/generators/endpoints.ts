// EDS: a ClusterLoadAssignment per cluster, with the service's endpoints (those a subset's labels select),
// grouped by locality. Endpoints must be IP addresses (gRPC and Envoy EDS both require it).
import { isIP } from 'node:net';
import type { ServicePort } from '../../api/index.js';
import { selects } from '../../mesh/labels.js';
import type { EndpointModel, ServiceModel } from '../../mesh/model/index.js';
import { TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { resolvedByDns } from './dns.js';
import { outboundCluster } from './names.js';
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
export function endpointPort(endpoint: EndpointModel, port: ServicePort): number | undefined {
  const listed = endpoint.ports[port.name];
  if (listed !== undefined || endpoint.onlyListedPorts) return listed;
  return port.targetPort ?? port.number;
}

function locality(text: string | undefined): ProtoMessage {
  const [region = '', zone = '', sub_zone = ''] = (text ?? '').split('/');
  return { region, zone, sub_zone };
}

function loadAssignment(service: ServiceModel, port: ServicePort, subsetName: string | undefined): Generated {
  const name = outboundCluster(service.host, port.number, subsetName);
  const subset = subsetName ? service.policy?.subsets.find((s) => s.name === subsetName) : undefined;
  const byLocality = new Map<string, { lbEndpoints: ProtoMessage[]; weight: number }>();
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
    if (!group) byLocality.set(e.locality ?? '', (group = { lbEndpoints: [], weight: 0 }));
    group.lbEndpoints.push({
      endpoint: { address: { socket_address: { address: e.address, port_value: portValue } } },
      load_balancing_weight: { value: weight },
      health_status: 'HEALTHY',
    });
    group.weight += weight;
  }
  const message: ProtoMessage = {
    cluster_name: name,
    endpoints: [...byLocality.entries()].map(([loc, group]) => ({
      locality: locality(loc),
      lb_endpoints: group.lbEndpoints,
      load_balancing_weight: { value: group.weight },
    })),
  };
  const sources = uniqueSources([service.declaredBy, ...used.map((e) => e.source), ...(subset && service.policy ? [service.policy.source] : [])]);
  return { typeUrl: TypeUrl.endpoint, name, message, sources };
}
