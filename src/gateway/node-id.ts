// A gateway proxy's xDS node id, on its own (no imports) so the xDS server can tell gateways apart cheaply.

/** The node type Istio gives gateway proxies; xDS generators tell gateways from sidecars by it. */
export const GATEWAY_NODE_TYPE = 'router';

/**
 * The node id of one gateway pod: `router~<namespace>~<gateway>~<pod>`. Each pod has its own (the xDS server
 * tracks ACKs per node); the pod name is filled in by the kubelet from the POD_NAME variable (`$(POD_NAME)`).
 */
export function gatewayNodeId(namespace: string, gateway: string, pod = '$(POD_NAME)'): string {
  return [GATEWAY_NODE_TYPE, namespace, gateway, pod].join('~');
}

/** The Gateway a node id belongs to, or undefined if it is not a gateway's. For the xDS server. */
export function parseGatewayNodeId(id: string): { namespace: string; gateway: string; pod: string } | undefined {
  const parts = id.split('~');
  if (parts.length !== 4 || parts[0] !== GATEWAY_NODE_TYPE || parts.some((p) => p === '')) return undefined;
  return { namespace: parts[1]!, gateway: parts[2]!, pod: parts[3]! };
}
