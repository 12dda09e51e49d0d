// Who is on the other end of a stream, from the node it sends on its first request.
import type { JsonValue, NodeMessage } from './messages.js';

/** Proxyless gRPC clients get the gRPC subset of xDS; Envoy sidecars get listeners that capture traffic. */
export type ProxyKind = 'proxyless' | 'envoy';

export interface ProxyInfo {
  id: string;
  cluster: string;
  kind: ProxyKind;
  metadata: Record<string, JsonValue>;
  locality?: { region: string; zone: string; sub_zone: string };
  userAgent: string;
  /** The workload's addresses (metadata INSTANCE_IPS, or the IP in an Istio-style `sidecar~IP~pod.ns~...` id). */
  ips: string[];
}

/**
 * Proxyless when the node says so as Istio's gRPC bootstrap does (`GENERATOR: grpc`), or with `PROXYLESS`, or when
 * the client is a gRPC library (user_agent_name "gRPC Node Pure JS", "gRPC Go", ...); Envoy otherwise.
 */
export function proxyFromNode(node: NodeMessage): ProxyInfo {
  const metadata = node.metadata;
  const proxyless =
    metadata.GENERATOR === 'grpc' || metadata.PROXYLESS === true || metadata.PROXYLESS === 'true' || /^grpc\b/i.test(node.user_agent_name);
  const ips = new Set<string>();
  if (typeof metadata.INSTANCE_IPS === 'string') for (const ip of metadata.INSTANCE_IPS.split(',')) if (ip.trim()) ips.add(ip.trim());
  const fromId = /^[a-z]+~([^~]+)~/.exec(node.id)?.[1];
  if (fromId) ips.add(fromId);
  return {
    id: node.id,
    cluster: node.cluster,
    kind: proxyless ? 'proxyless' : 'envoy',
    metadata,
    ...(node.locality ? { locality: node.locality } : {}),
    userAgent: node.user_agent_name,
    ips: [...ips],
  };
}
