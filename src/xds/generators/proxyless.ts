// Proxyless gRPC (gRFC A27/A28): for each port of a service, an api_listener named `host:port` (the target a
// client dials as xds:///host:port) whose HttpConnectionManager takes its routes from RDS, the route
// configuration of the same name, and the EDS clusters and endpoints the routes use.
import { isTcpProtocol } from '../../api/index.js';
import { routingSources, type MeshModel, type ServiceModel } from '../../mesh/model/index.js';
import { ExtensionType, TypeUrl } from '../protos.js';
import { serviceClusters } from './clusters.js';
import { serviceEndpoints } from './endpoints.js';
import { ADS, httpFilters } from './http-filters.js';
import { proxylessInboundListeners } from './mtls.js';
import { proxylessListener } from './names.js';
import { httpRoutes } from './routes.js';
import { uniqueSources, type Generated } from './types.js';

/** Every proxyless resource of one service. Clients ask for what they need by name; none is sent unasked. */
export function proxylessResources(service: ServiceModel, model: MeshModel): Generated[] {
  const out: Generated[] = [];
  for (const port of service.ports) {
    if (isTcpProtocol(port.protocol)) continue; // not gRPC traffic
    const name = proxylessListener(service.host, port.number);
    out.push({
      typeUrl: TypeUrl.listener,
      name,
      message: {
        name,
        api_listener: {
          api_listener: {
            '@type': ExtensionType.httpConnectionManager,
            stat_prefix: name,
            rds: { route_config_name: name, config_source: ADS },
            http_filters: httpFilters(),
          },
        },
      },
      sources: [service.declaredBy],
    });
    const { routes, sources } = httpRoutes({ flavor: 'proxyless', model, service, port });
    out.push({
      typeUrl: TypeUrl.route,
      name,
      // One virtual host: the configuration belongs to this one target, whatever authority the client sends.
      message: { name, virtual_hosts: [{ name, domains: ['*'], routes }] },
      sources: uniqueSources([service.declaredBy, ...routingSources(service), ...sources]),
    });
  }
  out.push(...serviceClusters(service, 'proxyless'), ...serviceEndpoints(service));
  // The server side of the service's workloads (XdsServer listeners): mutual TLS and authorization.
  out.push(...proxylessInboundListeners(service));
  return out;
}
