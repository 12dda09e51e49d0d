// Runs generated resources through @grpc/grpc-js-xds's own decoders, the ones its XdsClient uses: a resource
// they reject is one a proxyless client would NACK.
import { createRequire } from 'node:module';
import { messageType } from '../protos.js';
import type { XdsResource } from '../resource.js';

const require = createRequire(import.meta.url);

interface DecodeResult {
  name: string;
  value?: object;
  error?: string;
}
interface ResourceType {
  decode(context: object, resource: { type_url: string; value: Buffer }): DecodeResult;
}
type ResourceTypeClass = { get(): ResourceType };

const TYPES: Record<string, [module: string, exported: string]> = {
  'type.googleapis.com/envoy.config.listener.v3.Listener': ['listener-resource-type', 'ListenerResourceType'],
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': ['route-config-resource-type', 'RouteConfigurationResourceType'],
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': ['cluster-resource-type', 'ClusterResourceType'],
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': ['endpoint-resource-type', 'EndpointResourceType'],
};

let registered = false;

/** What grpc-js-xds makes of `resource`: its decoded form, or the error it would NACK with. */
export function grpcDecode(resource: XdsResource): DecodeResult {
  if (!registered) {
    (require('@grpc/grpc-js-xds') as { register(): void }).register(); // HTTP filters and LB policies
    registered = true;
  }
  const [module, exported] = TYPES[resource.typeUrl] ?? [];
  if (!module || !exported) throw new Error(`grpc-js-xds has no decoder for ${resource.typeUrl}`);
  const cls = (require(`@grpc/grpc-js-xds/build/src/xds-resource-type/${module}`) as Record<string, ResourceTypeClass>)[exported]!;
  const anyType = messageType('google.protobuf.Any');
  const any = anyType.toObject(anyType.decode(resource.any)) as { type_url: string; value: Uint8Array };
  const context = {
    server: { server_uri: 'localhost:1', channel_creds: [{ type: 'insecure' }], server_features: [] },
    bootstrap: { xdsServers: [], node: { id: 'test' }, authorities: {}, clientDefaultListenerResourceNameTemplate: '%s', serverListenerResourceNameTemplate: null, certificateProviders: {} },
  };
  return cls.get().decode(context, { type_url: any.type_url, value: Buffer.from(any.value) });
}
