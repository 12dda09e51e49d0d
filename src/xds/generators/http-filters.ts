// The HTTP filter chain of every HttpConnectionManager Weft generates: fault injection (configured per route),
// then the router. Authorization (RBAC) filters go before the router too, from MeshPolicy (not generated yet).
import { ExtensionType } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { FAULT_FILTER } from './routes.js';

export function httpFilters(): ProtoMessage[] {
  return [
    { name: FAULT_FILTER, typed_config: { '@type': ExtensionType.fault } },
    { name: 'envoy.filters.http.router', typed_config: { '@type': ExtensionType.router } },
  ];
}

export const ADS: ProtoMessage = { ads: {}, resource_api_version: 'V3' };
