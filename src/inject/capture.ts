// Traffic capture for an Envoy sidecar, as istio-init does it: the pod's init container `weft capture` loads these
// iptables rules (nat table) into the pod's network namespace, so every TCP connection out of the app goes to
// Envoy's virtualOutbound (15001) and every connection in goes to virtualInbound (15006), except Envoy's own traffic
// (by its uid) and the ports the pod answers itself (Envoy's status and admin, the agent's xDS relay). Pure text:
// `iptables-restore` applies it (src/inject/capture-command.ts).
import { INBOUND_CAPTURE_PORT, OUTBOUND_CAPTURE_PORT } from '../xds/generators/envoy.js';

export interface CaptureOptions {
  /** The uid (and gid) Envoy runs as: its own connections are never captured. */
  proxyUid: number;
  /** Inbound ports left alone (Envoy's status port, the agent's relay, ...). */
  excludeInboundPorts: number[];
  /** Outbound ports left alone. */
  excludeOutboundPorts?: number[];
}

export function captureRules(options: CaptureOptions): string {
  const uid = options.proxyUid;
  const lines = [
    '*nat',
    ':WEFT_INBOUND - [0:0]',
    ':WEFT_IN_REDIRECT - [0:0]',
    ':WEFT_OUTPUT - [0:0]',
    ':WEFT_REDIRECT - [0:0]',
    `-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports ${OUTBOUND_CAPTURE_PORT}`,
    `-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${INBOUND_CAPTURE_PORT}`,
    '-A PREROUTING -p tcp -j WEFT_INBOUND',
    ...options.excludeInboundPorts.map((p) => `-A WEFT_INBOUND -p tcp --dport ${p} -j RETURN`),
    '-A WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT',
    '-A OUTPUT -p tcp -j WEFT_OUTPUT',
    ...(options.excludeOutboundPorts ?? []).map((p) => `-A WEFT_OUTPUT -p tcp --dport ${p} -j RETURN`),
    // Envoy talking to the app on the pod's own address comes back in through the inbound chain.
    `-A WEFT_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner ${uid} -j WEFT_IN_REDIRECT`,
    `-A WEFT_OUTPUT -o lo -m owner ! --uid-owner ${uid} -j RETURN`,
    `-A WEFT_OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
    `-A WEFT_OUTPUT -m owner --gid-owner ${uid} -j RETURN`,
    '-A WEFT_OUTPUT -d 127.0.0.1/32 -j RETURN',
    '-A WEFT_OUTPUT -j WEFT_REDIRECT',
    'COMMIT',
  ];
  return `${lines.join('\n')}\n`;
}
