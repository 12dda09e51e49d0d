// The judgements `kubectl weft check` makes, as pure functions of what it read from the API server, so each can be
// tested on plain objects. Each returns a Result: passed or not, what was found, and (when not) what to do.
import { X509Certificate } from 'node:crypto';
import type { V1CustomResourceDefinition, V1Deployment, V1Lease, V1MutatingWebhookConfiguration, V1ResourceAttributes } from '@kubernetes/client-node';
import type { Json } from '../../controllers/object.js';
import type { V1PolicyRule as PolicyRule } from '@kubernetes/client-node';
import { GROUP, MESH_KINDS, VERSION, resources as meshResources, type MeshKind } from '../../api/index.js';
import { parseCertificates } from '../../ca/certificate.js';

export type Crd = Json<V1CustomResourceDefinition>;
export type Deployment = Json<V1Deployment>;
export type Lease = Json<V1Lease>;
export type WebhookConfiguration = Json<V1MutatingWebhookConfiguration>;
export type ResourceAttributes = V1ResourceAttributes;

export interface Result {
  ok: boolean;
  /** Passed, with something a person should know (printed ‼ and not failing). */
  warning?: boolean;
  message: string;
  hint?: string;
}

const pass = (message: string): Result => ({ ok: true, message });
const fail = (message: string, hint: string): Result => ({ ok: false, message, hint });
const warn = (message: string, hint: string): Result => ({ ok: true, warning: true, message, hint });

/** The oldest Kubernetes minor Weft supports: its CRDs' CEL rules (cost estimation, messageExpression) and the e2e suite's range. */
export const MIN_KUBERNETES_MINOR = 30;

export function kubernetesVersion(version: { major?: string; minor?: string; gitVersion?: string }): Result {
  const major = Number.parseInt(version.major ?? '', 10);
  const minor = Number.parseInt(version.minor ?? '', 10); // "36+" on some providers
  const shown = version.gitVersion ?? `${version.major}.${version.minor}`;
  if (!Number.isFinite(major) || !Number.isFinite(minor)) return fail(`the API server reports no usable version (${shown})`, 'check that KUBECONFIG points at a Kubernetes API server');
  if (major !== 1 || minor < MIN_KUBERNETES_MINOR) {
    return fail(`Kubernetes ${shown} is older than the oldest supported, 1.${MIN_KUBERNETES_MINOR}`, `upgrade the cluster to Kubernetes 1.${MIN_KUBERNETES_MINOR} or newer`);
  }
  return pass(`Kubernetes ${shown} is supported (1.${MIN_KUBERNETES_MINOR} or newer)`);
}

/**
 * Other groups' CRDs that claim one of Weft's short names (kubectl would resolve `wvs` to theirs: a failure), or the
 * same plural (Istio's `virtualservices`: `kubectl get virtualservices` picks one group, so say which names are
 * unambiguous).
 */
export function nameClashes(installed: readonly Crd[]): Result[] {
  const others = installed.filter((crd) => crd.spec?.group !== GROUP);
  const out: Result[] = [];
  for (const kind of MESH_KINDS) {
    const ours = meshResources[kind];
    for (const crd of others) {
      const names = crd.spec!.names;
      const taken = (names.shortNames ?? []).filter((s) => (ours.shortNames as readonly string[]).includes(s));
      if (taken.length > 0) {
        out.push(fail(`CRD ${crd.metadata?.name} claims the short name ${taken.join(', ')} of ${ours.plural}.${GROUP}`, `remove or rename its short names, or kubectl ${taken[0]} will not reach Weft's ${kind}`));
      } else if (names.plural === ours.plural) {
        out.push(warn(`CRD ${crd.metadata?.name} has the same plural as ${ours.plural}.${GROUP}`, `name Weft's kind unambiguously: kubectl get ${ours.shortNames[0]} or ${ours.plural}.${GROUP}`));
      }
    }
  }
  return out.length > 0 ? out : [pass(`no other CRD claims Weft's names (${MESH_KINDS.map((k) => meshResources[k].shortNames[0]).join(', ')})`)];
}

/** One Weft CRD: present, serving and storing v1alpha1, Established. */
export function crdReady(kind: MeshKind, crd: Crd | undefined): Result {
  const name = `${meshResources[kind].plural}.${GROUP}`;
  const install = 'install Weft: kubectl apply -f manifests/';
  if (!crd) return fail(`CRD ${name} is not installed`, install);
  const version = crd.spec?.versions?.find((v) => v.name === VERSION);
  if (!version?.served || !version.storage) {
    return fail(`CRD ${name} does not serve and store ${VERSION} (has ${(crd.spec?.versions ?? []).map((v) => v.name).join(', ') || 'none'})`, `apply this release's manifests/ (${VERSION})`);
  }
  const established = crd.status?.conditions?.find((c) => c.type === 'Established');
  if (established?.status !== 'True') {
    return fail(`CRD ${name} is not Established${established?.message ? `: ${established.message}` : ''}`, `kubectl describe crd ${name}`);
  }
  return pass(`CRD ${name} is Established at ${VERSION}`);
}

/** Whether a Lease is held now: a holder that renewed within its lease duration. */
export function leaseHeld(lease: Lease | undefined, nowMs: number): { held: boolean; holder?: string; ageSeconds?: number } {
  const holder = lease?.spec?.holderIdentity;
  const renew = lease?.spec?.renewTime;
  if (!holder || !renew) return { held: false };
  const ageSeconds = Math.max(0, Math.round((nowMs - new Date(renew as unknown as string).getTime()) / 1000));
  return { held: ageSeconds <= (lease.spec?.leaseDurationSeconds ?? 15), holder, ageSeconds };
}

/** The operator is running: its Deployment Available, or at least a replica holding the leader Lease (e.g. run outside the cluster). */
export function operatorRunning(deployment: Deployment | undefined, lease: Lease | undefined, nowMs: number): Result {
  const available = deployment?.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
  const ready = deployment?.status?.readyReplicas ?? 0;
  const want = deployment?.spec?.replicas ?? 1;
  const leader = leaseHeld(lease, nowMs);
  if (available) return pass(`Deployment weft-system/weft-operator is Available (${ready}/${want} replicas ready)`);
  if (leader.held) return pass(`the operator runs: ${leader.holder} holds the leader Lease (renewed ${leader.ageSeconds}s ago)${deployment ? `; its Deployment has ${ready}/${want} replicas ready` : ''}`);
  if (!deployment) return fail('Deployment weft-system/weft-operator is missing and no replica holds the leader Lease', 'install Weft: kubectl apply -f manifests/');
  return fail(`Deployment weft-system/weft-operator is not Available (${ready}/${want} replicas ready) and no replica holds the leader Lease`, 'kubectl -n weft-system describe deployment weft-operator; kubectl -n weft-system logs deployment/weft-operator');
}

/** A replica serves and leads: the leader Lease is held and renewed within its duration. */
export function leaderServing(lease: Lease | undefined, nowMs: number): Result {
  const leader = leaseHeld(lease, nowMs);
  if (leader.held) return pass(`leader ${leader.holder} renewed the Lease ${leader.ageSeconds}s ago`);
  if (!leader.holder) return fail('no replica has taken the leader Lease weft-system/weft-operator-leader', 'the operator is not running, or cannot reach the API server: kubectl -n weft-system logs deployment/weft-operator');
  return fail(`the leader Lease is stale: ${leader.holder} last renewed it ${leader.ageSeconds}s ago (duration ${lease?.spec?.leaseDurationSeconds ?? 15}s)`, 'the leader stopped renewing: check the operator replicas and their logs');
}

/** Every webhook of the injection configuration has a caBundle that parses as certificates. */
export function webhookCaBundle(config: WebhookConfiguration | undefined, name: string): Result {
  if (!config) return fail(`MutatingWebhookConfiguration ${name} is missing`, 'install Weft: kubectl apply -f manifests/');
  for (const webhook of config.webhooks ?? []) {
    const bundle = webhook.clientConfig?.caBundle;
    if (!bundle) return fail(`webhook ${webhook.name} of ${name} has no caBundle: the API server cannot call the injector`, 'the operator fills it once its CA is ready: check that it runs (kubectl weft check) and its logs');
    let certs: X509Certificate[] = [];
    try {
      certs = parseCertificates(Buffer.from(bundle as unknown as string, 'base64').toString('utf8'));
    } catch {
      certs = [];
    }
    if (certs.length === 0) return fail(`webhook ${webhook.name} of ${name} has a caBundle that holds no certificate`, 'the operator rewrites it from the CA: restart the operator, and check its logs');
  }
  return pass(`MutatingWebhookConfiguration ${name} has a caBundle for each webhook`);
}

/** How long is "near expiry" for the CA's certificates. */
export const EXPIRY_WARNING_DAYS = 30;

/** Certificates in `pem` (named `what`): present, valid now, and not expiring within EXPIRY_WARNING_DAYS. */
export function certificatesValid(what: string, pem: string | undefined, nowMs: number): Result {
  let certs: X509Certificate[] = [];
  try {
    certs = pem ? parseCertificates(pem) : [];
  } catch {
    certs = [];
  }
  if (certs.length === 0) return fail(`${what} holds no certificate`, 'the operator (leader) writes it once its CA starts: check its logs');
  const soonest = certs.reduce((a, b) => (Date.parse(a.validTo) <= Date.parse(b.validTo) ? a : b));
  const left = (Date.parse(soonest.validTo) - nowMs) / 86_400_000;
  if (left <= 0) return fail(`${what}: a certificate expired on ${soonest.validTo} (${soonest.subject.replace(/\n/g, ', ')})`, 'rotate the CA (docs/ca.md): workloads can no longer be verified');
  if (left < EXPIRY_WARNING_DAYS) return fail(`${what}: a certificate expires in ${Math.floor(left)} days, on ${soonest.validTo}`, 'rotate the CA root before it expires (docs/ca.md)');
  return pass(`${what}: ${certs.length} certificate(s), the first to expire in ${Math.floor(left)} days`);
}

/** The access reviews that say whether a subject holds `rules`: one per verb x resource (x name) of each rule. */
export function accessRequests(rules: readonly PolicyRule[], namespace?: string): ResourceAttributes[] {
  const out: ResourceAttributes[] = [];
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? ['']) {
      for (const resourceWithSub of rule.resources ?? []) {
        const [resource, subresource] = resourceWithSub.split('/') as [string, string | undefined];
        for (const verb of rule.verbs) {
          for (const name of rule.resourceNames ?? [undefined]) {
            out.push({ group, resource, verb, ...(subresource ? { subresource } : {}), ...(name ? { name } : {}), ...(namespace ? { namespace } : {}) });
          }
        }
      }
    }
  }
  return out;
}

/** `verb group/resource[/sub][ name][ in ns]`, as a person reads an access request. */
export function describeAccess(a: ResourceAttributes): string {
  const resource = `${a.group ? `${a.group}/` : ''}${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
  return `${a.verb} ${resource}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}`;
}

/** The outcome of a set of access reviews: a pass, or the denied ones listed. */
export function accessResult(subject: string, reviewed: ReadonlyArray<{ request: ResourceAttributes; allowed: boolean }>, hint: string): Result {
  const denied = reviewed.filter((r) => !r.allowed).map((r) => describeAccess(r.request));
  if (denied.length === 0) return pass(`${subject} may do all ${reviewed.length} things it needs`);
  const listed = denied.slice(0, 5).join('; ') + (denied.length > 5 ? `; and ${denied.length - 5} more` : '');
  return fail(`${subject} may not: ${listed}`, hint);
}
