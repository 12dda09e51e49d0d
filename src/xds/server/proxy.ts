// Who is on the other end of a stream, from the node it sends on its first request.
import { parseGatewayNodeId } from '../../gateway/node-id.js';
import type { JsonValue, NodeMessage } from './messages.js';

/**
 * Proxyless gRPC clients get the gRPC subset of xDS; Envoy sidecars get listeners that capture traffic; gateway
 * proxies (Envoy in router mode) get the listeners of the Gateways that select them.
 */
export type ProxyKind = 'proxyless' | 'envoy' | 'gateway';

export interface ProxyInfo {
  id: string;
  cluster: string;
  kind: ProxyKind;
  metadata: Record<string, JsonValue>;
  locality?: { region: string; zone: string; sub_zone: string };
  userAgent: string;
  /** The workload's addresses (metadata INSTANCE_IPS, or the IP in an Istio-style `sidecar~IP~pod.ns~...` id). */
  ips: string[];
  /** For a gateway proxy (`router~<namespace>~<gateway>~<pod>`): the Gateway that deploys it. */
  gateway?: { namespace: string; name: string; pod: string };
  /**
   * The namespace the proxy says it runs in: a gateway's, the `<pod>.<namespace>` part of an Istio-style id
   * (`sidecar~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`), or metadata NAMESPACE. Authorization holds
   * the caller to it.
   */
  namespace?: string;
}

/**
 * A gateway by its node id (`router~...`, as Weft's gateway bootstrap sets it); otherwise proxyless when the node
 * says so as Istio's gRPC bootstrap does (`GENERATOR: grpc`), or with `PROXYLESS`, or when the client is a gRPC
 * library (user_agent_name "gRPC Node Pure JS", "gRPC Go", ...); an Envoy sidecar otherwise.
 */
export function proxyFromNode(node: NodeMessage): ProxyInfo {
  const metadata = node.metadata;
  const common = {
    id: node.id,
    cluster: node.cluster,
    metadata,
    ...(node.locality ? { locality: node.locality } : {}),
    userAgent: node.user_agent_name,
  };
  const gateway = parseGatewayNodeId(node.id);
  if (gateway) return { ...common, kind: 'gateway', ips: [], gateway: { namespace: gateway.namespace, name: gateway.gateway, pod: gateway.pod }, namespace: gateway.namespace };
  const proxyless =
    metadata.GENERATOR === 'grpc' || metadata.PROXYLESS === true || metadata.PROXYLESS === 'true' || /^grpc\b/i.test(node.user_agent_name);
  const ips = new Set<string>();
  if (typeof metadata.INSTANCE_IPS === 'string') for (const ip of metadata.INSTANCE_IPS.split(',')) if (ip.trim()) ips.add(ip.trim());
  const fromId = /^[a-z]+~([^~]+)~/.exec(node.id)?.[1];
  if (fromId) ips.add(fromId);
  const namespace = /^[a-z]+~[^~]*~[^~.]+\.([^~.]+)~/.exec(node.id)?.[1] ?? (typeof metadata.NAMESPACE === 'string' ? metadata.NAMESPACE : undefined);
  return { ...common, kind: proxyless ? 'proxyless' : 'envoy', ips: [...ips], ...(namespace ? { namespace } : {}) };
}
