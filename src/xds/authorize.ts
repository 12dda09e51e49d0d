// Who may receive a proxy's config on the authenticated (TLS, ServiceAccount token) port. A gateway's config
// carries its TLS private keys (SDS), so only the gateway's own workload may fetch it, as Istio lets a proxy read
// only Secrets of its own namespace. Streams on the plaintext loopback port have no caller and are not checked:
// that port is for tests and local development only.
import type { Gateway } from '../api/index.js';
import { spiffeId, type WorkloadIdentity } from '../ca/spiffe.js';
import { generatedName } from '../gateway/names.js';
import type { ProxyInfo } from './server/proxy.js';

/** Undefined to allow; otherwise why `caller` may not have `proxy`'s config. */
export function authorizeProxy(proxy: ProxyInfo, caller: WorkloadIdentity | undefined, gateway: (namespace: string, name: string) => Gateway | undefined): string | undefined {
  if (!caller || !proxy.gateway) return undefined;
  const { namespace, name } = proxy.gateway;
  if (caller.namespace !== namespace) return `${spiffeId(caller)} may not receive the config of gateway ${namespace}/${name}: it is in another namespace`;
  const gw = gateway(namespace, name);
  // A gateway Weft deploys runs as its own ServiceAccount; one it does not deploy, as whatever its owner chose.
  if (gw?.spec.deployment && caller.serviceAccount !== generatedName(gw)) {
    return `${spiffeId(caller)} may not receive the config of gateway ${namespace}/${name}: only its ServiceAccount ${generatedName(gw)} may`;
  }
  return undefined;
}
