// A Kubernetes Service port's protocol, by Istio's protocol selection rules: `appProtocol` if set (with the
// Kubernetes standard names), else the port name's prefix before the first `-` (`grpc-web` whole), matched without
// case. Istio's protocols outside Weft's set are carried as the closest one Weft generates config for; anything
// unrecognised (Istio would sniff it) is TCP.
import { ISTIO_PROTOCOLS, type Protocol } from '../../api/index.js';

export type { Protocol };

/** Istio's protocol names (lower case) → the protocol Weft generates config for. */
const BY_NAME: Readonly<Record<string, Protocol>> = {
  ...Object.fromEntries(Object.entries(ISTIO_PROTOCOLS).map(([name, protocol]) => [name.toLowerCase(), protocol])),
  thrift: 'TCP', // a port name prefix Istio once knew: proxied as plain TCP
};

/** Kubernetes' standard appProtocol values (they are never port name prefixes). */
const KUBERNETES_APP_PROTOCOLS: Readonly<Record<string, Protocol>> = {
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTPS',
};

export interface KubernetesPort {
  name?: string;
  protocol?: string;
  appProtocol?: string;
}

/**
 * The mesh protocol of a Service port, or undefined for ports the mesh does not proxy (UDP and SCTP: Istio leaves
 * them alone too).
 */
export function servicePortProtocol(port: KubernetesPort): Protocol | undefined {
  if (port.protocol === 'UDP' || port.protocol === 'SCTP') return undefined;
  const name = port.appProtocol ?? port.name ?? '';
  const standard = port.appProtocol ? KUBERNETES_APP_PROTOCOLS[port.appProtocol] : undefined;
  if (standard) return standard;
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return BY_NAME['grpc-web'];
  const dash = lower.indexOf('-');
  return BY_NAME[dash < 0 ? lower : lower.slice(0, dash)] ?? 'TCP';
}
