// Envoy's v3 protos, loaded once with protobufjs from the copy @grpc/grpc-js-xds ships under deps/. Field names
// keep their proto (snake_case) spelling, so generated objects read like Envoy's YAML/JSON docs.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** The xDS resource types Weft serves, by type URL. */
export const TypeUrl = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  /** VHDS: one virtual host of a route configuration, for Envoy on delta xDS (only what changed is sent). */
  virtualHost: 'type.googleapis.com/envoy.config.route.v3.VirtualHost',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Make-before-break: clusters (and their endpoints) exist before the listeners and routes that use them. */
export const PUSH_ORDER: readonly TypeUrl[] = [TypeUrl.cluster, TypeUrl.endpoint, TypeUrl.listener, TypeUrl.route, TypeUrl.virtualHost, TypeUrl.secret];

/**
 * Types whose subscriptions name namespaces rather than resources: Envoy's VHDS subscribes to a route
 * configuration's name and means every virtual host named `<route configuration>/<host>` (xDS namespace matching).
 */
export function isNamespacedType(typeUrl: string): boolean {
  return typeUrl === TypeUrl.virtualHost;
}

/** The namespace a resource of a namespaced type belongs to: its name up to the last `/` (hosts hold none). */
export function namespaceOf(name: string): string {
  return name.slice(0, Math.max(0, name.lastIndexOf('/')));
}

/** SotW: a response for these types carries every resource (a missing one is deleted); RDS/EDS name theirs. */
export function isFullStateType(typeUrl: string): boolean {
  return typeUrl === TypeUrl.listener || typeUrl === TypeUrl.cluster;
}

export function isKnownTypeUrl(typeUrl: string): typeUrl is TypeUrl {
  return (Object.values(TypeUrl) as string[]).includes(typeUrl);
}

/** Typed configs nested in resources (Any `@type`s) that generators use. */
export const ExtensionType = {
  httpConnectionManager: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  cors: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  corsPolicy: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  rbac: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  networkRbac: 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
  localRateLimit: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  stdoutAccessLog: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  openTelemetryTracer: 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
  zipkinTracer: 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  httpProtocolOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  originalDst: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  tlsInspector: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
} as const;

const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
];

function includeDirs(): string[] {
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  // protobufjs resolves google/protobuf/{any,duration,struct,...} itself, but not descriptor.proto (validate.proto
  // imports it) when a custom resolvePath is set: its package folder has that file.
  const protobufjsDir = dirname(require.resolve('protobufjs/package.json'));
  return [...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d)), protobufjsDir];
}

function loadRoot(): protobuf.Root {
  const dirs = includeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => dirs.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
}

/**
 * Drops the options of every type, field, oneof and enum once they are resolved: encoding and decoding need none
 * (`packed` is read first, the one option they use), and the parser keeps option values as slices of each .proto
 * file's text, so they held every file's whole text: ~1.8 MiB of an operator's heap with the options themselves.
 * Reserved names go too (only adding a field checks them): they are slices of the same texts, and kept 11 files'
 * text alive (0.6 MiB: route.proto alone 248 KB).
 */
function dropOptions(ns: protobuf.NamespaceBase): void {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) {
      for (const field of child.fieldsArray) {
        void field.packed; // memoised from the options before they go
        field.options = undefined;
        field.parsedOptions = undefined;
      }
      for (const oneof of child.oneofsArray) oneof.options = undefined;
    }
    child.options = undefined;
    child.parsedOptions = undefined;
    if (child instanceof protobuf.Type || child instanceof protobuf.Enum) child.reserved = undefined as unknown as typeof child.reserved;
    if (child instanceof protobuf.Namespace) dropOptions(child);
  }
}

/** The messages Weft encodes or decodes by name: every other type it needs is reached through their fields. */
const ENTRY_TYPES = [
  ...Object.values(TypeUrl),
  ...Object.values(ExtensionType),
  'envoy.service.discovery.v3.DiscoveryRequest',
  'envoy.service.discovery.v3.DiscoveryResponse',
  'envoy.service.discovery.v3.DeltaDiscoveryRequest',
  'envoy.service.discovery.v3.DeltaDiscoveryResponse',
  'google.protobuf.Any',
].map((t) => t.slice(t.lastIndexOf('/') + 1));

/**
 * Removes the types and services no entry type reaches (a fifth of those the files declare: protoc-gen-validate's
 * rules, descriptor.proto, the ADS service, messages only options name), 0.5 MiB of an operator's heap.
 */
function pruneUnreachable(root: protobuf.Root): void {
  const reached = new Set<protobuf.ReflectionObject>();
  const reach = (obj: protobuf.ReflectionObject): void => {
    if (reached.has(obj)) return;
    reached.add(obj);
    if (obj instanceof protobuf.Type) for (const field of obj.fieldsArray) if (field.resolvedType) reach(field.resolvedType);
  };
  for (const name of ENTRY_TYPES) reach(root.lookupType(name));
  const prune = (ns: protobuf.NamespaceBase): boolean => {
    for (const child of [...ns.nestedArray]) {
      const keptForNested = child instanceof protobuf.Namespace && prune(child); // a type kept for a nested one
      if (!reached.has(child) && !keptForNested) ns.remove(child);
    }
    return ns.nestedArray.length > 0;
  };
  prune(root);
}

let loaded: protobuf.Root | undefined;

/**
 * The protobufjs root with the Envoy types Weft encodes or decodes (loaded on first use, ~0.3 s), without options
 * and without the types none of them reaches.
 */
export function envoyRoot(): protobuf.Root {
  if (loaded) return loaded;
  loaded = loadRoot();
  pruneUnreachable(loaded);
  dropOptions(loaded);
  return loaded;
}

let withOptions: protobuf.Root | undefined;

/** The same types with their options (protoc-gen-validate's rules), loaded apart for checks in tests. */
export function envoyRootWithOptions(): protobuf.Root {
  withOptions ??= loadRoot();
  return withOptions;
}

const types = new Map<string, protobuf.Type>();

/** A message type by full name (`envoy.config.cluster.v3.Cluster`) or type URL. */
export function messageType(nameOrTypeUrl: string): protobuf.Type {
  const name = nameOrTypeUrl.slice(nameOrTypeUrl.lastIndexOf('/') + 1);
  let type = types.get(name);
  if (!type) {
    type = envoyRoot().lookupType(name);
    types.set(name, type);
  }
  return type;
}
