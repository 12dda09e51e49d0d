// Mesh security as xDS, for the generators in src/xds: pure functions from MeshPolicy to Envoy config objects
// (protobufjs fromObject form: proto field names, `@type` for Any), checked against the real Envoy protos.
export { mtlsModeAt, scopeFor, securityPolicies, workloadSecurity, type AuthorizationInScope, type PolicyRef, type Workload, type WorkloadSecurity } from '../mesh/policy.js';
export { NETWORK_RBAC_FILTER, namespaceMatch, principalMatch, RBAC_FILTER, rbacHttpFilters, rbacNetworkFilters } from './rbac.js';
export {
  AGENT_CREDENTIALS_DIR,
  envoyCredentialSecrets,
  envoyDownstreamTransportSocket,
  envoyOriginationTransportSocket,
  envoyUpstreamTransportSocket,
  IDENTITY_SECRET,
  outboundSni,
  ROOT_SECRET,
  SYSTEM_ROOTS,
  type OriginationTls,
} from './envoy-tls.js';
export {
  CERTIFICATE_PROVIDER_INSTANCE,
  clientTransportSocket,
  DEFAULT_MTLS_MODE,
  downstreamTransportSocket,
  inboundFilterChains,
  usesMutualTls,
  type ClientTlsMode,
  type InboundFilterChainSecurity,
  type MtlsMode,
} from './tls.js';
