// The weft.dev/v1alpha1 API: TypeScript types, TypeBox schemas and CRDs from one source (see docs/api.md).
export {
  API_VERSION,
  GROUP,
  ROOT_NAMESPACE,
  VERSION,
  Condition,
  Destination,
  DNS_LABEL_PATTERN,
  MESH_LABEL_PATTERN,
  HEADER_NAME_PATTERN,
  PSEUDO_HEADERS,
  HeaderOperations,
  Headers,
  ISTIO_PROTOCOLS,
  canonicalProtocol,
  isPlainHttpProtocol,
  isTcpProtocol,
  type Protocol,
  MeshStatus,
  Percent,
  PortSelector,
  StringMatch,
  matchesAnyValue,
  WorkloadLabelsSelector,
  WorkloadSelector,
  type MeshObject,
  type ObjectMeta,
} from './common.js';
export {
  CATEGORY,
  MESH_KINDS,
  SPEC_SCHEMAS,
  crds,
  resources,
  type CustomResourceDefinition,
  type MeshKind,
  type PrinterColumn,
  type ResourceInfo,
} from './crds.js';
export {
  ClientTLSSettings,
  ConnectionPoolSettings,
  ConsistentHashLB,
  DestinationRuleSpec,
  LoadBalancerSettings,
  OutlierDetection,
  PortTrafficPolicy,
  Subset,
  TrafficPolicy,
  type DestinationRule,
} from './destinationrule.js';
export { LocalityDistribute, LocalityFailover, LocalityLoadBalancerSetting } from './locality.js';
export {
  GatewayAddress,
  GatewayDeployment,
  GatewayPort,
  GatewayServerStatus,
  GatewaySpec,
  GatewayStatus,
  Server,
  ServerTLSSettings,
  type Gateway,
} from './gateway.js';
export {
  Authorization,
  AuthorizationRule,
  MeshPolicySpec,
  MutualTLS,
  RateLimit,
  RuleFrom,
  RuleTo,
  Telemetry,
  type MeshPolicy,
} from './meshpolicy.js';
export { ServiceEntrySpec, ServicePort, type ServiceEntry } from './serviceentry.js';
export {
  CorsPolicy,
  HTTPDirectResponse,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPMirrorPolicy,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
  HTTPRoute,
  HTTPRouteDestination,
  L4MatchAttributes,
  RouteDestination,
  TCPRoute,
  TLSMatchAttributes,
  TLSRoute,
  VirtualServiceSpec,
  type VirtualService,
} from './virtualservice.js';
export { ServiceEntryEndpoint, WorkloadEntrySpec, type WorkloadEntry } from './workloadentry.js';

import type { DestinationRule } from './destinationrule.js';
import type { Gateway } from './gateway.js';
import type { MeshPolicy } from './meshpolicy.js';
import type { ServiceEntry } from './serviceentry.js';
import type { VirtualService } from './virtualservice.js';
import type { WorkloadEntry } from './workloadentry.js';

/** The object type of each kind. */
export interface MeshObjectsByKind {
  MeshPolicy: MeshPolicy;
  VirtualService: VirtualService;
  DestinationRule: DestinationRule;
  Gateway: Gateway;
  ServiceEntry: ServiceEntry;
  WorkloadEntry: WorkloadEntry;
}
/** Any weft.dev/v1alpha1 object. */
export type AnyMeshObject = MeshObjectsByKind[keyof MeshObjectsByKind];
