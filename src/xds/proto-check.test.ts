import { describe, expect, it } from '@jest/globals';
import { checkMessage } from './proto-check.js';
import { TypeUrl } from './protos.js';

describe('checkMessage', () => {
  it('accepts a valid cluster', () => {
    expect(checkMessage(TypeUrl.cluster, { name: 'c', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, connect_timeout: { seconds: 1 } })).toEqual([]);
  });

  it('finds what protobufjs would silently drop or coerce', () => {
    expect(checkMessage(TypeUrl.cluster, { name: 'c', lb_polcy: 'ROUND_ROBIN' })).toEqual(['envoy.config.cluster.v3.Cluster.lb_polcy: no such field in envoy.config.cluster.v3.Cluster']);
    expect(checkMessage(TypeUrl.cluster, { name: 'c', lb_policy: 'FASTEST' })).toEqual(['envoy.config.cluster.v3.Cluster.lb_policy: FASTEST is not a value of LbPolicy']);
    expect(checkMessage(TypeUrl.cluster, { name: '' })).toEqual(['envoy.config.cluster.v3.Cluster.name: must have at least 1 character(s)']);
    expect(checkMessage(TypeUrl.cluster, {})).toContain('envoy.config.cluster.v3.Cluster.name: must have at least 1 character(s)');
  });

  it('lets an unset field with a zero minimum length pass (EnvoyGrpc.authority: min_len 0)', () => {
    expect(checkMessage('envoy.config.core.v3.GrpcService', { envoy_grpc: { cluster_name: 'xds' } })).toEqual([]);
  });

  it('applies PGV rules and oneofs, inside typed Any configs too', () => {
    const problems = checkMessage(TypeUrl.listener, {
      name: 'l',
      api_listener: { api_listener: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', rds: {}, route_config: {}, stat_prefix: 'x' } },
    });
    expect(problems).toContain('envoy.config.listener.v3.Listener.api_listener.api_listener<HttpConnectionManager>: oneof route_specifier has rds and route_config set');
    expect(problems).toContain('envoy.config.listener.v3.Listener.api_listener.api_listener<HttpConnectionManager>.rds.config_source: required');
  });
});
