// Gateway validation: two Gateways that select the same workload must not claim the same port with different
// protocols, nor the same TLS host on one port (the older one keeps it). Plain HTTP servers share a port and its
// hosts, as in Istio: their VirtualServices' routes are merged, oldest first (src/xds/generators/gateway.ts).
import { canonicalProtocol, isPlainHttpProtocol, type Gateway, type Server } from '../api/index.js';
import { bareHost, hostsOverlap } from './hosts.js';
import { labelsKey } from './labels.js';
import type { MeshLookup } from './lookup.js';
import { olderFirst, refOf, verdict, type Problem, type Verdict } from './verdict.js';

export function validateGateway(gw: Gateway, lookup: MeshLookup): Verdict {
  const workload = labelsKey(gw.spec.selector);
  const older = lookup
    .gateways()
    // Only Gateways of one namespace configure a gateway proxy together (src/xds/gateway-builder.ts).
    .filter((other) => other.metadata.namespace === gw.metadata.namespace && refOf(other) !== refOf(gw) && labelsKey(other.spec.selector) === workload && olderFirst(other, gw) < 0)
    .sort(olderFirst);
  const problems: Problem[] = [];
  const shared = new Set<string>();
  gw.spec.servers.forEach((server, i) => {
    for (const other of older) {
      other.spec.servers.forEach((claimed, j) => {
        if (claimed.port.number !== server.port.number) return;
        const where = `Gateway ${refOf(other)} (servers[${j}])`;
        const plain = plainHttp(server) && plainHttp(claimed);
        if (!plain && canonicalProtocol(claimed.port.protocol) !== canonicalProtocol(server.port.protocol)) {
          problems.push({
            reason: 'PortConflict',
            field: `spec.servers[${i}].port`,
            message: `port ${server.port.number} is already served as ${claimed.port.protocol} by ${where} on the same workload`,
          });
          return;
        }
        if (plain) {
          if (server.hosts.some((host) => claimed.hosts.some((h) => hostsOverlap(bareHost(h), bareHost(host))))) shared.add(`port ${server.port.number} with ${where}`);
          return;
        }
        for (const host of server.hosts) {
          const clash = claimed.hosts.find((h) => hostsOverlap(bareHost(h), bareHost(host)));
          if (clash) {
            problems.push({
              reason: 'HostConflict',
              field: `spec.servers[${i}].hosts`,
              message: `host ${host} on port ${server.port.number} is already claimed (as ${clash}) by ${where} on the same workload`,
            });
          }
        }
      });
    }
  });
  const ports = gw.spec.servers.map((s) => `${s.port.number}/${s.port.protocol}`).join(', ');
  const merged = shared.size > 0 ? `; hosts shared on ${[...shared].join(', ')}: their VirtualServices' routes are merged, the oldest first` : '';
  return verdict(problems, `${gw.spec.servers.length} server(s) on ${ports}${merged}`);
}

/** Plain-text HTTP (HTTP, HTTP2, gRPC, no tls block): Istio merges such servers of one port into one route table. */
function plainHttp(server: Server): boolean {
  return !server.tls && isPlainHttpProtocol(canonicalProtocol(server.port.protocol));
}
