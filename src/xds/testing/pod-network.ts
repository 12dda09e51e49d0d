// A stand-in Pod network for this machine, where kwok's Pods have IPs but no processes (and the API server refuses
// loopback addresses in EndpointSlices): connections a process dials to a "Pod IP" are delivered to the loopback
// address standing in for that Pod ({"10.244.0.5": "127.0.2.1"}). Any other address outside 127.0.0.0/8 is refused,
// so no connection ever leaves the host. Used by the e2e clients and `make run`'s Pod demo; never by the operator.
import net from 'node:net'; // the module object itself (a namespace import is read-only)

export function installPodNetwork(podToLoopback: Record<string, string>): void {
  const connect = net.connect.bind(net) as (...args: unknown[]) => net.Socket;
  const patched = (...args: unknown[]): net.Socket => {
    const options = args[0];
    if (options && typeof options === 'object' && 'host' in options && typeof options.host === 'string') {
      const host = podToLoopback[options.host] ?? options.host;
      if (net.isIPv4(host) && !host.startsWith('127.')) throw new Error(`refusing to dial ${host}: traffic here stays on 127.0.0.0/8`);
      args[0] = { ...options, host };
    }
    return connect(...args);
  };
  (net as { connect: unknown }).connect = patched;
  (net as { createConnection: unknown }).createConnection = patched;
}
