// The HTTP filter chain of every HttpConnectionManager Weft generates: fault injection (configured per route),
// then the router. An Envoy sidecar's inbound HCMs put MeshPolicy's filters first: RBAC (DENY, then ALLOW) and
// the local rate limit, so that a request refused by authorization spends no token. Envoy's outbound and gateway
// HCMs start with CORS (configured per route, as Istio's); gRPC has no CORS filter and would refuse the listener.
import { ExtensionType } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { CORS_FILTER, FAULT_FILTER } from './routes.js';

export function httpFilters(before: readonly ProtoMessage[] = []): ProtoMessage[] {
  return [
    ...before,
    { name: FAULT_FILTER, typed_config: { '@type': ExtensionType.fault } },
    { name: 'envoy.filters.http.router', typed_config: { '@type': ExtensionType.router } },
  ];
}

export const ADS: ProtoMessage = { ads: {}, resource_api_version: 'V3' };

/** Envoy's outbound (and gateway) chain: CORS, then as every HCM. */
export function envoyRouteFilters(): ProtoMessage[] {
  return httpFilters([{ name: CORS_FILTER, typed_config: { '@type': ExtensionType.cors } }]);
}
