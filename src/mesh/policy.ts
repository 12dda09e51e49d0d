// Which MeshPolicy settings apply to one workload (docs/api.md, "Precedence"): mtls, rateLimit and telemetry each by
// the most specific scope that sets it (workload > namespace > mesh, the oldest policy within a scope),
// authorization from every policy in scope. Pure: the caller passes the policies it has (Accepted ones; a refused policy must not apply).
import { ROOT_NAMESPACE, type AuthorizationRule, type MeshPolicy, type RateLimit, type Telemetry } from '../api/index.js';
import { selects } from './labels.js';
import { olderFirst } from './verdict.js';
import { DEFAULT_MTLS_MODE, type MtlsMode } from '../security/tls.js';

export interface Workload {
  namespace: string;
  labels: Record<string, string>;
}

export interface PolicyRef {
  namespace: string;
  name: string;
  generation: number;
}

export interface AuthorizationInScope {
  source: PolicyRef;
  action: 'ALLOW' | 'DENY';
  rules: AuthorizationRule[];
}

export interface WorkloadSecurity {
  mtlsMode: MtlsMode;
  /** The policy that set the mode; absent when it is the default. */
  mtlsFrom?: PolicyRef;
  /** Modes of single workload ports (portLevelMtls of the workload's own policy), over mtlsMode there. */
  portMtls?: { modes: Record<number, MtlsMode>; from: PolicyRef };
  /** Every authorization in scope, oldest first (the order does not change the outcome). */
  authorizations: AuthorizationInScope[];
  /** Local rate limiting of inbound requests (Envoy sidecars only), and the policy that set it. */
  rateLimit?: { spec: RateLimit; from: PolicyRef };
  /** Tracing and access logs (Envoy sidecars only), and the policy that set them. */
  telemetry?: { spec: Telemetry; from: PolicyRef };
}

type Scope = 'workload' | 'namespace' | 'mesh';

/** The scope in which `policy` applies to `workload`, or undefined when it does not. */
export function scopeFor(policy: MeshPolicy, workload: Workload, rootNamespace = ROOT_NAMESPACE): Scope | undefined {
  const ns = policy.metadata.namespace;
  const selector = policy.spec.selector?.matchLabels;
  const hasSelector = selector !== undefined && Object.keys(selector).length > 0;
  if (ns !== rootNamespace && ns !== workload.namespace) return undefined;
  if (hasSelector) return selects(selector, workload.labels) ? 'workload' : undefined;
  return ns === rootNamespace ? 'mesh' : 'namespace';
}

export function workloadSecurity(policies: MeshPolicy[], workload: Workload, rootNamespace = ROOT_NAMESPACE): WorkloadSecurity {
  const inScope = policies
    .map((policy) => ({ policy, scope: scopeFor(policy, workload, rootNamespace) }))
    .filter((p): p is { policy: MeshPolicy; scope: Scope } => p.scope !== undefined)
    .sort((a, b) => olderFirst(a.policy, b.policy));
  const ref = (p: MeshPolicy): PolicyRef => ({ namespace: p.metadata.namespace!, name: p.metadata.name!, generation: p.metadata.generation ?? 0 });

  /** The field's value from the most specific scope that sets it; the oldest policy within that scope. */
  const owned = <F extends 'mtls' | 'rateLimit' | 'telemetry'>(field: F): { spec: NonNullable<MeshPolicy['spec'][F]>; from: PolicyRef } | undefined => {
    for (const scope of ['workload', 'namespace', 'mesh'] as const) {
      const owner = inScope.find((p) => p.scope === scope && p.policy.spec[field] !== undefined);
      if (owner) return { spec: owner.policy.spec[field]!, from: ref(owner.policy) };
    }
    return undefined;
  };
  const mtls = owned('mtls');
  // Port-level modes come only from the workload scope (a selector names the workload whose ports they are).
  const portOwner = inScope.find((p) => p.scope === 'workload' && p.policy.spec.portLevelMtls !== undefined);
  const portMtls = portOwner && {
    modes: Object.fromEntries(Object.entries(portOwner.policy.spec.portLevelMtls!).map(([port, m]) => [Number(port), m.mode])),
    from: ref(portOwner.policy),
  };
  const rateLimit = owned('rateLimit');
  const telemetry = owned('telemetry');
  return {
    mtlsMode: mtls?.spec.mode ?? DEFAULT_MTLS_MODE,
    ...(mtls ? { mtlsFrom: mtls.from } : {}),
    ...(portMtls ? { portMtls } : {}),
    authorizations: inScope
      .filter((p) => p.policy.spec.authorization)
      .map(({ policy }) => ({ source: ref(policy), action: policy.spec.authorization!.action, rules: policy.spec.authorization!.rules ?? [] })),
    ...(rateLimit ? { rateLimit } : {}),
    ...(telemetry ? { telemetry } : {}),
  };
}

/** Every policy a workload's settings come from (what its inbound config is built from). */
export function securityPolicies(security: WorkloadSecurity | undefined): PolicyRef[] {
  if (!security) return [];
  return [
    ...(security.mtlsFrom ? [security.mtlsFrom] : []),
    ...(security.portMtls ? [security.portMtls.from] : []),
    ...security.authorizations.map((a) => a.source),
    ...(security.rateLimit ? [security.rateLimit.from] : []),
    ...(security.telemetry ? [security.telemetry.from] : []),
  ];
}

/** The mutual TLS mode a workload port is served with: its port-level mode, else the workload's. */
export function mtlsModeAt(security: WorkloadSecurity | undefined, port: number): MtlsMode {
  return security?.portMtls?.modes[port] ?? security?.mtlsMode ?? DEFAULT_MTLS_MODE;
}
