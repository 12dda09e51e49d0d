// Who may receive a proxy's config on the authenticated (TLS, ServiceAccount token) port, checked when a stream's
// node is known, before anything is sent, and again whenever a Gateway changes (a stream that no longer holds is
// closed). A proxy gets config only for node ids in its caller's namespace, as istiod refuses a proxy whose node id
// namespace differs from its certificate's. A gateway's config carries its TLS private keys (SDS), so only its own
// workload may fetch it: the Gateway must exist, and the caller must be the ServiceAccount Weft deploys it with, or
// the one a Gateway Weft does not deploy names in its `gateway.weft.dev/service-account` annotation. Streams on the
// plaintext loopback port have no caller and are not checked: that port is for tests and local development only.
import type { Gateway } from '../api/index.js';
import { spiffeId, type WorkloadIdentity } from '../ca/spiffe.js';
import { generatedName } from '../gateway/names.js';
import type { ProxyInfo } from './server/proxy.js';

/** On a Gateway Weft does not deploy: the ServiceAccount its proxies run as (the only one given its config). */
export const GATEWAY_SERVICE_ACCOUNT_ANNOTATION = 'gateway.weft.dev/service-account';

/** The ServiceAccount a Gateway's proxies must run as, or undefined when none is bound. */
export function gatewayServiceAccount(gw: Gateway): string | undefined {
  return gw.spec.deployment ? generatedName(gw) : gw.metadata.annotations?.[GATEWAY_SERVICE_ACCOUNT_ANNOTATION];
}

/** Undefined to allow; otherwise why `caller` may not have `proxy`'s config. */
export function authorizeProxy(proxy: ProxyInfo, caller: WorkloadIdentity | undefined, gateway: (namespace: string, name: string) => Gateway | undefined): string | undefined {
  if (!caller) return undefined;
  const who = spiffeId(caller);
  if (proxy.gateway) {
    const { namespace, name } = proxy.gateway;
    const what = `the config of gateway ${namespace}/${name}`;
    if (caller.namespace !== namespace) return `${who} may not receive ${what}: it is in another namespace`;
    const gw = gateway(namespace, name);
    if (!gw) return `${who} may not receive ${what}: no such Gateway`;
    const bound = gatewayServiceAccount(gw);
    if (!bound) return `${who} may not receive ${what}: Weft does not deploy it and it names no ServiceAccount in annotation ${GATEWAY_SERVICE_ACCOUNT_ANNOTATION}`;
    if (caller.serviceAccount !== bound) return `${who} may not receive ${what}: only its ServiceAccount ${bound} may`;
    return undefined;
  }
  if (!proxy.namespace) return `${who} may not receive the config of node ${proxy.id}: the node id names no namespace (use sidecar~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local)`;
  if (proxy.namespace !== caller.namespace) return `${who} may not receive the config of node ${proxy.id}: it is in namespace ${proxy.namespace}, not ${caller.namespace}`;
  return undefined;
}
