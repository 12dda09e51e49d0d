// Resource names, as Istio spells them, so config dumps and tooling read the same.

/** `outbound|9080|v1|reviews.shop.svc.cluster.local`; the subset is empty for the whole service. */
export function outboundCluster(host: string, port: number, subset = ''): string {
  return `outbound|${port}|${subset}|${host}`;
}

/** The listener (and route configuration) a proxyless client asks for: the `host:port` of its target URI. */
export function proxylessListener(host: string, port: number): string {
  return `${host}:${port}`;
}

/** An Envoy sidecar's outbound listener for a port (all services on that port share it). */
export function envoyOutboundListener(port: number): string {
  return `0.0.0.0_${port}`;
}

/** An Envoy sidecar's route configuration for a port: one virtual host per service on it. */
export function envoyOutboundRoutes(port: number): string {
  return String(port);
}

/** A service's virtual host in its port's route configuration, as a VHDS resource: `<route configuration>/<host>`. */
export function envoyVirtualHostName(port: number, host: string): string {
  return `${envoyOutboundRoutes(port)}/${host}`;
}

/** The cluster through which an Envoy sidecar hands inbound traffic to its own workload. */
export function inboundCluster(port: number): string {
  return `inbound|${port}||`;
}

export const VIRTUAL_INBOUND = 'virtualInbound';
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
