// What a Gateway's status says, computed from what the caches hold: `Programmed` (its Deployment is available,
// its Service exists, and its config is served), `ResolvedRefs` (its TLS Secrets exist), its addresses, and
// the same per server. Pure: the reconciler gathers the observations, this module only judges them.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Gateway, GatewayAddress, GatewayServerStatus } from '../api/index.js';
import { setCondition, type Condition, type ConditionUpdate, type Json } from '../controllers/index.js';
import type { Problem, Verdict } from '../mesh/verdict.js';
import type { SyncResult } from './sync.js';

export type Deployment = Json<V1Deployment>;
export type Service = Json<V1Service>;

/**
 * Whether the gateway's configuration is in what the xDS server serves, and acknowledged by its proxies.
 * The xDS server answers this (see docs/gateways.md); `undefined` means nobody can tell yet.
 */
export type ServingState = ({ served: true; message: string } | { served: false; reason: string; message: string; pending?: boolean }) & {
  /** Gateway proxies that hold this config, of those it applies to (status.proxies and the SYNCED column). */
  proxies?: { acked: number; expected: number };
};

export interface GatewayObservation {
  /** The generated Deployment and Service as cached (absent before they exist, or without spec.deployment). */
  deployment?: Deployment;
  service?: Service;
  /** Generated objects that could not be applied because someone else owns their name. */
  blocked: SyncResult['blocked'];
  /** Why applying the generated objects failed, if it did (e.g. refused by an admission webhook or quota). */
  applyError?: string;
  serving?: ServingState;
  /** Servers whose TLS credential is missing. */
  credentialProblems: Problem[];
}

/** The condition types a Gateway reports besides Accepted and Ready, in the order Ready consults them. */
export const GATEWAY_CONDITION_TYPES = ['Programmed', 'ResolvedRefs'] as const;

export function gatewayConditions(gw: Gateway, verdict: Verdict, seen: GatewayObservation): ConditionUpdate[] {
  const programmed = programmedCondition(gw, verdict, seen);
  return [...(programmed ? [programmed] : []), resolvedRefsCondition(seen.credentialProblems)];
}

/** Undefined when there is nothing to judge: Weft deploys nothing and no xDS server reports on serving. */
export function programmedCondition(gw: Gateway, verdict: Verdict, seen: GatewayObservation): ConditionUpdate | undefined {
  const programmed = (status: Condition['status'], reason: string, message: string): ConditionUpdate => ({ type: 'Programmed', status, reason, message });
  if (!gw.spec.deployment) {
    if (!seen.serving) return undefined;
    return seen.serving.served ? programmed('True', 'Programmed', seen.serving.message) : notServed(seen.serving);
  }
  if (seen.blocked.length > 0) return programmed('False', 'NameConflict', seen.blocked.map((b) => b.message).join('; '));
  if (seen.applyError) return programmed('False', 'ApplyFailed', `applying the generated objects failed (retrying): ${seen.applyError}`);
  const name = `${gw.metadata.namespace}/${gw.metadata.name}`;
  const deployment = seen.deployment;
  if (!deployment) {
    return verdict.accepted
      ? programmed('Unknown', 'DeploymentPending', `waiting for Deployment ${name} to be created`)
      : programmed('False', 'NotAccepted', 'nothing is deployed for a Gateway that is not accepted');
  }
  const availability = deploymentAvailability(name, deployment);
  if (availability) return programmed(availability.status, availability.reason, availability.message);
  if (!seen.service) return programmed('Unknown', 'ServicePending', `waiting for Service ${name} to be created`);
  if (seen.serving && !seen.serving.served) return notServed(seen.serving);
  const parts = [replicasMessage(deployment), reachability(seen.service)];
  // The hook for the xDS server: until it reports, "programmed" means the proxies run, not that they hold this config.
  parts.push(seen.serving ? seen.serving.message : 'config serving not reported (no xDS server)');
  if (!verdict.accepted) parts.push('serving the last accepted spec');
  return programmed('True', 'Programmed', parts.join('; '));
}

/** Not served yet (Unknown: on the way) or not served (False: e.g. a proxy rejected it). */
function notServed(state: Extract<ServingState, { served: false }>): ConditionUpdate {
  return { type: 'Programmed', status: state.pending ? 'Unknown' : 'False', reason: state.reason, message: state.message };
}

/** Undefined when the Deployment is available; otherwise why not, and whether that is still expected to pass. */
function deploymentAvailability(name: string, d: Deployment): { status: 'False' | 'Unknown'; reason: string; message: string } | undefined {
  const conditions = d.status?.conditions ?? [];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (failure) return { status: 'False', reason: 'DeploymentReplicaFailure', message: `Deployment ${name} cannot create pods: ${failure.message}` };
  if (conditions.find((c) => c.type === 'Available')?.status === 'True') return undefined;
  const progressing = conditions.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False') {
    return { status: 'False', reason: 'DeploymentNotAvailable', message: `Deployment ${name} ${replicasMessage(d)}: ${progressing.message}` };
  }
  return { status: 'Unknown', reason: 'DeploymentPending', message: `Deployment ${name} is rolling out: ${replicasMessage(d)}` };
}

function replicasMessage(d: Deployment): string {
  return `${d.status?.availableReplicas ?? 0}/${d.spec?.replicas ?? 1} replicas available`;
}

function reachability(service: Service): string {
  const addresses = gatewayAddresses(service).map((a) => a.value);
  const pendingLoadBalancer = service.spec?.type === 'LoadBalancer' && !(service.status?.loadBalancer?.ingress ?? []).length;
  return `reachable at ${addresses.join(', ') || 'no address yet'}${pendingLoadBalancer ? ' (load balancer address pending)' : ''}`;
}

function resolvedRefsCondition(problems: Problem[]): ConditionUpdate {
  if (problems.length === 0) return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'all TLS credentials found' };
  return { type: 'ResolvedRefs', status: 'False', reason: problems[0]!.reason, message: problems.map((p) => `${p.field}: ${p.message}`).join('; ') };
}

/** Where the gateway is reachable: load balancer ingress first (what clients outside use), then the cluster IPs. */
export function gatewayAddresses(service: Service | undefined): GatewayAddress[] {
  if (!service) return [];
  const addresses: GatewayAddress[] = [];
  for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
    if (ingress.ip) addresses.push({ type: 'IPAddress', value: ingress.ip });
    if (ingress.hostname) addresses.push({ type: 'Hostname', value: ingress.hostname });
  }
  const clusterIPs = service.spec?.clusterIPs ?? (service.spec?.clusterIP ? [service.spec.clusterIP] : []);
  for (const ip of clusterIPs) if (ip && ip !== 'None') addresses.push({ type: 'IPAddress', value: ip });
  return addresses.slice(0, 16);
}

/**
 * Each server's Accepted (its own conflicts), ResolvedRefs (its credential) and Programmed (all of that, and the
 * gateway programmed). Transition times carry over from `previous` by server index.
 */
export function serverStatuses(
  gw: Gateway,
  verdict: Verdict,
  gatewayProgrammed: ConditionUpdate | undefined,
  credentialProblems: Problem[],
  previous: GatewayServerStatus[] | undefined,
  now = new Date(),
): GatewayServerStatus[] {
  const problems = verdict.accepted ? [] : verdict.problems;
  return gw.spec.servers.map((server, index) => {
    const mine = (list: Problem[]) => list.filter((p) => p.field.startsWith(`spec.servers[${index}]`));
    const judged = (type: string, own: Problem[], okReason: string, okMessage: string): ConditionUpdate =>
      own.length === 0
        ? { type, status: 'True', reason: okReason, message: okMessage }
        : { type, status: 'False', reason: own[0]!.reason, message: own.map((p) => p.message).join('; ') };
    const accepted = judged('Accepted', mine(problems), 'Accepted', `${server.port.protocol} on port ${server.port.number} for ${server.hosts.join(', ')}`);
    const named = [...new Set([server.tls?.credentialName, ...(server.tls?.credentialNames ?? []), server.tls?.caCertCredentialName].filter((n): n is string => n !== undefined))];
    const resolved = judged('ResolvedRefs', mine(credentialProblems), 'ResolvedRefs', named.length > 0 ? `Secret${named.length > 1 ? 's' : ''} ${named.join(', ')} found` : 'no references');
    const programmed = serverProgrammed(verdict, accepted, resolved, gatewayProgrammed);
    let conditions = previous?.find((s) => s.index === index)?.conditions as Condition[] | undefined;
    for (const update of [accepted, resolved, ...(programmed ? [programmed] : [])]) {
      conditions = setCondition(conditions, update, gw.metadata.generation, now).conditions;
    }
    if (!programmed) conditions = conditions?.filter((c) => c.type !== 'Programmed');
    return { index, ...(server.name ? { name: server.name } : {}), port: server.port.number, conditions: conditions ?? [] };
  });
}

function serverProgrammed(verdict: Verdict, accepted: ConditionUpdate, resolved: ConditionUpdate, gateway: ConditionUpdate | undefined): ConditionUpdate | undefined {
  if (!gateway) return undefined;
  for (const c of [accepted, resolved]) {
    if (c.status !== 'True') return { type: 'Programmed', status: 'False', reason: c.reason, message: `not served: ${c.message}` };
  }
  if (!verdict.accepted) return { type: 'Programmed', status: 'False', reason: verdict.reason, message: 'not served: another server of this Gateway is not accepted' };
  return gateway.status === 'True' ? { ...gateway, message: 'served' } : gateway;
}
