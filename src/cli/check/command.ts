// `kubectl weft check [--pre-install]`, like `linkerd check`: can Weft be installed here, and is it installed and
// working. Each check prints ✔ or ✖ (‼ for a warning) with a hint; the verb exits 1 when any check fails.
import { Command, Option } from 'commander';
import { CA_SECRET_NAME } from '../../ca/state.js';
import { TRUST_BUNDLE_CONFIGMAP, TRUST_BUNDLE_KEY } from '../../ca/trust-bundle.js';
import type { RestClient } from '../../controllers/rest-client.js';
import { isNotFound } from '../../controllers/rest-client.js';
import { WEBHOOK_CONFIGURATION } from '../../inject/names.js';
import { LEASE_NAME, OPERATOR_NAME, OPERATOR_NAMESPACE, clusterRules, namespaceRules } from '../../install/operator-chart.js';
import { GROUP, MESH_KINDS, resources as meshResources } from '../../api/index.js';
import { connect } from '../connect.js';
import { setExitStatus, type GlobalOptions } from '../index.js';
import { render, type OutputFormat } from '../output.js';
import {
  accessRequests,
  accessResult,
  certificatesValid,
  crdReady,
  kubernetesVersion,
  leaderServing,
  nameClashes,
  operatorRunning,
  webhookCaBundle,
  type Crd,
  type Deployment,
  type Lease,
  type ResourceAttributes,
  type Result,
  type WebhookConfiguration,
} from './checks.js';

export interface CheckLine {
  category: string;
  status: 'ok' | 'warning' | 'failed';
  message: string;
  hint?: string;
}

const line = (category: string, r: Result): CheckLine => ({
  category,
  status: !r.ok ? 'failed' : r.warning ? 'warning' : 'ok',
  message: r.message,
  ...(r.hint ? { hint: r.hint } : {}),
});

/** What the pre-install checks' user must be allowed: what manifests/ creates. */
const INSTALL_ACCESS: ResourceAttributes[] = [
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'create' },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'create' },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', verb: 'create' },
  { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', verb: 'create' },
  { group: '', resource: 'namespaces', verb: 'create' },
  ...[
    ['', 'serviceaccounts'],
    ['', 'services'],
    ['apps', 'deployments'],
    ['rbac.authorization.k8s.io', 'roles'],
    ['rbac.authorization.k8s.io', 'rolebindings'],
  ].map(([group, resource]) => ({ group: group!, resource: resource!, verb: 'create', namespace: OPERATOR_NAMESPACE })),
];

async function getOrUndefined<T>(client: RestClient, path: string): Promise<T | undefined> {
  try {
    return await client.json<T>('GET', path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Runs `reviews` 16 at a time. */
async function reviewAll(requests: ResourceAttributes[], review: (a: ResourceAttributes) => Promise<boolean>) {
  const out: Array<{ request: ResourceAttributes; allowed: boolean }> = [];
  for (let i = 0; i < requests.length; i += 16) {
    const batch = requests.slice(i, i + 16);
    const allowed = await Promise.all(batch.map(review));
    batch.forEach((request, j) => out.push({ request, allowed: allowed[j]! }));
  }
  return out;
}

/** The checks, in order; stops after the API server is found unreachable (nothing else can be read). */
export async function runChecks(client: RestClient, preInstall: boolean, nowMs = Date.now()): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  const server = client.access.server;
  let version: { major?: string; minor?: string; gitVersion?: string };
  try {
    version = await client.json('GET', '/version');
  } catch (err) {
    out.push(line('kubernetes-api', { ok: false, message: `cannot reach ${server}: ${(err as Error).message}`, hint: 'check KUBECONFIG, --kubeconfig and --context, and that the API server is up' }));
    return out;
  }
  out.push(line('kubernetes-api', { ok: true, message: `can reach ${server}` }));
  out.push(line('kubernetes-api', kubernetesVersion(version)));

  const crds = (await client.json<{ items?: Crd[] }>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).items ?? [];
  if (preInstall) {
    const self = async (a: ResourceAttributes) =>
      (await client.json<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: a } },
      })).status?.allowed === true;
    out.push(line('pre-install', accessResult('you', await reviewAll(INSTALL_ACCESS, self), 'installing Weft needs cluster-admin-like rights (CRDs, ClusterRoles, a webhook): ask a cluster admin')));
    for (const r of nameClashes(crds)) out.push(line('pre-install', r));
    const installed = crds.filter((c) => c.spec?.group === GROUP).map((c) => c.metadata?.name);
    if (installed.length > 0) out.push(line('pre-install', { ok: true, warning: true, message: `Weft's CRDs are installed already (${installed.join(', ')})`, hint: 'run kubectl weft check to check the installation' }));
    return out;
  }

  for (const kind of MESH_KINDS) {
    out.push(line('weft-crds', crdReady(kind, crds.find((c) => c.metadata?.name === `${meshResources[kind].plural}.${GROUP}`))));
  }
  const deployment = await getOrUndefined<Deployment>(client, `/apis/apps/v1/namespaces/${OPERATOR_NAMESPACE}/deployments/${OPERATOR_NAME}`);
  const lease = await getOrUndefined<Lease>(client, `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/leases/${LEASE_NAME}`);
  out.push(line('weft-operator', operatorRunning(deployment, lease, nowMs)));
  out.push(line('weft-operator', leaderServing(lease, nowMs)));

  const user = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_NAME}`;
  const subject = async (a: ResourceAttributes) =>
    (await client.json<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${OPERATOR_NAMESPACE}`, 'system:authenticated'], resourceAttributes: a },
      },
    })).status?.allowed === true;
  const requests = [...accessRequests(clusterRules), ...accessRequests(namespaceRules, OPERATOR_NAMESPACE)];
  out.push(line('weft-operator', accessResult(`ServiceAccount ${OPERATOR_NAMESPACE}/${OPERATOR_NAME}`, await reviewAll(requests, subject), 'apply manifests/ again: its ClusterRole/Role and bindings grant these')));

  const webhook = await getOrUndefined<WebhookConfiguration>(client, `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`);
  out.push(line('weft-injection', webhookCaBundle(webhook, WEBHOOK_CONFIGURATION)));

  const secret = await getOrUndefined<{ data?: Record<string, string> }>(client, `/api/v1/namespaces/${OPERATOR_NAMESPACE}/secrets/${CA_SECRET_NAME}`);
  const decode = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64').toString('utf8') : '');
  const caPem = secret ? decode(secret.data?.['root-cert.pem']) + decode(secret.data?.['ca-cert.pem']) : undefined;
  out.push(line('weft-ca', secret ? certificatesValid(`Secret ${OPERATOR_NAMESPACE}/${CA_SECRET_NAME} (root and signing certificates)`, caPem, nowMs) : { ok: false, message: `Secret ${OPERATOR_NAMESPACE}/${CA_SECRET_NAME} is missing`, hint: 'the leader creates it when it starts: check that the operator runs and its logs' }));
  const bundle = await getOrUndefined<{ data?: Record<string, string> }>(client, `/api/v1/namespaces/${OPERATOR_NAMESPACE}/configmaps/${TRUST_BUNDLE_CONFIGMAP}`);
  out.push(line('weft-ca', bundle ? certificatesValid(`ConfigMap ${OPERATOR_NAMESPACE}/${TRUST_BUNDLE_CONFIGMAP} (trust bundle)`, bundle.data?.[TRUST_BUNDLE_KEY], nowMs) : { ok: false, message: `ConfigMap ${OPERATOR_NAMESPACE}/${TRUST_BUNDLE_CONFIGMAP} (the trust bundle) is missing`, hint: 'the leader writes it in every namespace once the CA is ready: check the operator' }));
  return out;
}

const MARKS = { ok: '✔', warning: '‼', failed: '✖' } as const;

export function checksText(lines: CheckLine[]): string {
  let text = '';
  let category = '';
  for (const l of lines) {
    if (l.category !== category) {
      category = l.category;
      text += `${text ? '\n' : ''}${category}\n${'-'.repeat(category.length)}\n`;
    }
    text += `${MARKS[l.status]} ${l.message}\n`;
    if (l.hint && l.status !== 'ok') text += `    hint: ${l.hint}\n`;
  }
  const failed = lines.filter((l) => l.status === 'failed').length;
  return `${text}\nStatus check results are ${failed === 0 ? '✔' : `✖ (${failed} failed)`}\n`;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check that Weft can be installed (--pre-install), or that it is installed and working')
    .addOption(new Option('--pre-install', 'only check that the cluster is ready for Weft: API server, version, your rights, no clashing CRD names'))
    .action(async (options: { preInstall?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const cluster = connect(globals);
      let lines: CheckLine[];
      try {
        lines = await runChecks(cluster.client, options.preInstall === true);
      } finally {
        await cluster.client.close();
      }
      process.stdout.write(render(globals.output as OutputFormat, lines, checksText));
      setExitStatus(command, lines.some((l) => l.status === 'failed') ? 1 : 0);
    });
}
