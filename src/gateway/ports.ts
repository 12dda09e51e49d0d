// The gateway's ports: one Service port per distinct server port number (servers may share a port, e.g. HTTPS
// with several hosts told apart by SNI). The proxy listens on targetPort (default: the port number itself).
import { canonicalProtocol, type Server } from '../api/index.js';

export interface GatewayServicePort {
  /** `<protocol>-<number>`, e.g. `https-443`: always a valid Service port name, and Istio's protocol-by-name. */
  name: string;
  port: number;
  targetPort: number;
}

/** The first server on a port number decides its targetPort; later servers on the same number share it. */
export function servicePorts(servers: readonly Server[]): GatewayServicePort[] {
  const byNumber = new Map<number, GatewayServicePort>();
  for (const { port } of servers) {
    if (byNumber.has(port.number)) continue;
    byNumber.set(port.number, { name: `${canonicalProtocol(port.protocol).toLowerCase()}-${port.number}`, port: port.number, targetPort: port.targetPort ?? port.number });
  }
  return [...byNumber.values()];
}
