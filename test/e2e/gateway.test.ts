// Gateways Weft runs (spec.deployment), on a real API server with kwok nodes and kube-controller-manager's real
// garbage collector, with the operator authenticated as its own ServiceAccount (so RBAC gaps show). Asserts what a
// user sees through the API and kubectl.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CA_CONFIG } from '../../src/ca/index.js';
import { newRoot } from '../../src/ca/transitions.js';
import { TypeUrl } from '../../src/xds/protos.js';
import { eventually, isNotFound, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, operatorKubeconfig, startOperator, type RunningOperator } from './operator.js';
import { caPortOf, serviceAccountToken, startAgent, type AgentRun } from './workloads.js';
import { GatewayProxy } from './xds/gateway-proxy.js';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface GatewayObject {
  metadata: k8s.V1ObjectMeta & { generation?: number };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    addresses?: Array<{ type: string; value: string }>;
    servers?: Array<{ index: number; name?: string; port: number; conditions?: Condition[] }>;
    synced?: string;
  };
}

const kc = kubeConfig();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const policy = kc.makeApiClient(k8s.PolicyV1Api);
const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
const group = { group: 'weft.dev', version: 'v1alpha1', plural: 'gateways' };

const http = (number: number, hosts: string[]) => ({ port: { number, name: `http-${number}`, protocol: 'HTTP' }, hosts });

function gateway(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', metadata: { name }, spec };
}
const create = (namespace: string, body: Record<string, unknown>) => custom.createNamespacedCustomObject({ ...group, namespace, body });
const getGateway = (namespace: string, name: string) => custom.getNamespacedCustomObject({ ...group, namespace, name }) as Promise<GatewayObject>;
/** A merge patch through kubectl, as a user edits. */
const patchGateway = (namespace: string, name: string, patch: unknown) =>
  kubectl('patch', 'gateway.weft.dev', name, '-n', namespace, '--type', 'merge', '-p', JSON.stringify(patch));
const condition = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);
const absent = <T>(read: Promise<T>): Promise<true | undefined> => read.then(() => undefined, (err: unknown) => (isNotFound(err) ? true : Promise.reject(err)));
const present = <T>(read: Promise<T>): Promise<T | undefined> => read.catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));

/** Waits until the Gateway has condition `type` with `status` for its current generation; returns the Gateway. */
function conditionOf(namespace: string, name: string, type: string, status: string, timeoutMs = 60_000): Promise<GatewayObject> {
  let last: GatewayObject | undefined;
  return eventually(`Gateway ${namespace}/${name} ${type}=${status}`, async () => {
    const gw = (last = await getGateway(namespace, name));
    const c = condition(gw.status?.conditions, type);
    return c?.status === status && c.observedGeneration === gw.metadata.generation ? gw : undefined;
  }, timeoutMs).catch((err: unknown) => {
    // Say where it got stuck: the conditions as last seen.
    throw new Error(`${String(err)}; generation ${last?.metadata.generation}, conditions ${JSON.stringify(last?.status?.conditions)}`);
  });
}

let operator: RunningOperator | undefined;
let xdsPort: number;
let ns: string;
const namespaces: Array<{ remove: () => Promise<void> }> = [];

beforeAll(async () => {
  installManifests();
  xdsPort = await freePort();
  operator = await startOperator(await operatorKubeconfig(kc), 'gateway-e2e', [`--xds-port=${xdsPort}`]);
  await eventually('the operator to lead', async () => ((await operator!.metric('leader_election_master_status')) === 1 ? true : undefined), 40_000);
  const namespace = await throwawayNamespace(kc, 'gateways');
  namespaces.push(namespace);
  ns = namespace.name;
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  for (const namespace of namespaces) await namespace.remove();
});

describe('a Gateway with spec.deployment', () => {
  it('gets a ServiceAccount, Deployment and Service as specified, its pods run, and it reports Programmed in kubectl describe', async () => {
    await create(ns, gateway('edge', {
      selector: { app: 'edge' },
      servers: [http(80, ['*.example.com']), { ...http(8080, ['admin.example.com']), port: { number: 8080, name: 'admin', protocol: 'HTTP', targetPort: 18080 } }],
      deployment: { replicas: 2, resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } } },
    }));
    const gw = await getGateway(ns, 'edge');
    const owner = { apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', name: 'edge', uid: gw.metadata.uid, controller: true, blockOwnerDeletion: true };
    const labels = { app: 'edge', 'app.kubernetes.io/managed-by': 'weft-operator', 'weft.dev/gateway-name': 'edge' };

    const deployment = await eventually('Deployment edge', () => present(apps.readNamespacedDeployment({ namespace: ns, name: 'edge' })));
    expect(deployment.metadata!.ownerReferences).toEqual([owner]);
    expect(deployment.metadata!.labels).toEqual(labels);
    expect(deployment.spec!.replicas).toBe(2);
    expect(deployment.spec!.selector).toEqual({ matchLabels: { app: 'edge' } });
    expect(deployment.spec!.strategy!.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: 0 });
    const pod = deployment.spec!.template;
    expect(pod.metadata!.labels).toEqual(labels); // no cdk8s construct-address label
    expect(pod.metadata!.annotations!['weft.dev/gateway-spec-hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(pod.spec!.serviceAccountName).toBe('edge');
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] });
    const [envoy] = pod.spec!.containers;
    expect(envoy!.image).toMatch(/^envoyproxy\/envoy:/);
    expect(envoy!.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    expect(envoy!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsUser: 101, capabilities: { drop: ['ALL'] } });
    expect(envoy!.ports!.map((p) => p.containerPort)).toEqual([80, 18080, 15021]);
    expect(envoy!.readinessProbe!.httpGet).toMatchObject({ path: '/healthz/ready', port: 15021 });
    const bootstrap = JSON.parse(envoy!.args![envoy!.args!.indexOf('--config-yaml') + 1]!) as { node: { id: string }; static_resources: { clusters: unknown[] } };
    expect(bootstrap.node.id).toBe(`router~${ns}~edge~$(POD_NAME)`);
    expect(JSON.stringify(bootstrap.static_resources.clusters)).toContain('"address":"127.0.0.1","port_value":15010'); // the agent's relay
    expect(pod.spec!.containers.map((c) => c.name)).toEqual(['envoy', 'weft-agent']);

    const service = await eventually('Service edge', () => present(core.readNamespacedService({ namespace: ns, name: 'edge' })));
    expect(service.metadata!.ownerReferences).toEqual([owner]);
    expect(service.spec!.type).toBe('LoadBalancer');
    expect(service.spec!.selector).toEqual({ app: 'edge' });
    expect(service.spec!.ports!.map((p) => [p.name, p.port, p.targetPort])).toEqual([['http-80', 80, 80], ['http-8080', 8080, 18080]]);
    expect(service.spec!.externalIPs).toBeUndefined();
    const account = await eventually('ServiceAccount edge', () => present(core.readNamespacedServiceAccount({ namespace: ns, name: 'edge' })));
    expect(account.metadata!.ownerReferences).toEqual([owner]);
    expect(account.automountServiceAccountToken).toBe(false);

    await eventually('2 gateway pods Running under kwok', async () => {
      const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'weft.dev/gateway-name=edge' });
      return pods.items.filter((p) => p.status?.phase === 'Running').length === 2 ? true : undefined;
    });
    const programmed = await conditionOf(ns, 'edge', 'Programmed', 'True');
    expect(condition(programmed.status!.conditions, 'Programmed')!.message).toMatch(/^2\/2 replicas available; reachable at /);
    expect(condition(programmed.status!.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(programmed.status!.addresses).toContainEqual({ type: 'IPAddress', value: service.spec!.clusterIP });
    expect(programmed.status!.servers!.map((s) => [s.index, s.port, condition(s.conditions, 'Programmed')?.status])).toEqual([[0, 80, 'True'], [1, 8080, 'True']]);

    const described = kubectl('describe', 'gateways.weft.dev', 'edge', '-n', ns);
    expect(described).toMatch(/Reason:\s+Programmed\s+Status:\s+True\s+Type:\s+Programmed/);
    await eventually('the Created and Programmed events in kubectl describe', async () => {
      const text = kubectl('describe', 'gateways.weft.dev', 'edge', '-n', ns);
      return /Normal\s+Created\s+.*created ServiceAccount edge/.test(text) && /Normal\s+Programmed\s/.test(text) ? true : undefined;
    });
    expect(kubectl('get', 'gateways.weft.dev', 'edge', '-n', ns)).toMatch(new RegExp(`edge\\s+${service.spec!.clusterIP!.replace(/\./g, '\\.')}\\s+True\\s+Ready`));
  });

  it('keeps what it generated: a deleted Deployment comes back, a hand-edited replica count is reverted, and deleting the Gateway collects everything', async () => {
    const before = await apps.readNamespacedDeployment({ namespace: ns, name: 'edge' });
    await apps.deleteNamespacedDeployment({ namespace: ns, name: 'edge' });
    const recreated = await eventually('Deployment edge re-created', async () => {
      const d = await present(apps.readNamespacedDeployment({ namespace: ns, name: 'edge' }));
      return d && d.metadata!.uid !== before.metadata!.uid ? d : undefined;
    });
    expect(recreated.spec!.replicas).toBe(2);
    await conditionOf(ns, 'edge', 'Programmed', 'True');

    kubectl('scale', 'deployment', 'edge', '-n', ns, '--replicas=5');
    await eventually('the Reverted event for the hand-edited Deployment', async () =>
      /Normal\s+Reverted\s+.*Deployment edge changed outside Weft/.test(kubectl('describe', 'gateways.weft.dev', 'edge', '-n', ns)) ? true : undefined);
    const reverted = await apps.readNamespacedDeployment({ namespace: ns, name: 'edge' });
    expect(reverted.spec!.replicas).toBe(2);
    expect(reverted.metadata!.generation).toBeGreaterThan(recreated.metadata!.generation!); // it was scaled, then restored

    await custom.deleteNamespacedCustomObject({ ...group, namespace: ns, name: 'edge' });
    await eventually('garbage collection of the generated objects', async () => {
      const gone = await Promise.all([
        absent(apps.readNamespacedDeployment({ namespace: ns, name: 'edge' })),
        absent(core.readNamespacedService({ namespace: ns, name: 'edge' })),
        absent(core.readNamespacedServiceAccount({ namespace: ns, name: 'edge' })),
      ]);
      return gone.every(Boolean) ? true : undefined;
    });
    await eventually('the gateway pods to go', async () => {
      const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'weft.dev/gateway-name=edge' });
      return pods.items.length === 0 ? true : undefined;
    });
  });

  it('follows spec changes: a new server rolls the pods, and the PDB and HPA come and go with the spec', async () => {
    await create(ns, gateway('roll', { selector: { app: 'roll' }, servers: [http(80, ['roll.example.com'])], deployment: { replicas: 1, serviceType: 'ClusterIP' } }));
    await conditionOf(ns, 'roll', 'Programmed', 'True');
    const first = await apps.readNamespacedDeployment({ namespace: ns, name: 'roll' });
    const firstHash = first.spec!.template.metadata!.annotations!['weft.dev/gateway-spec-hash'];

    patchGateway(ns, 'roll', { spec: { servers: [http(80, ['roll.example.com']), http(8080, ['roll.example.com'])], deployment: { podDisruptionBudget: { minAvailable: 1 } } } });
    const rolled = await eventually('the pod template to change', async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'roll' });
      return d.spec!.template.metadata!.annotations!['weft.dev/gateway-spec-hash'] !== firstHash ? d : undefined;
    });
    expect(rolled.spec!.template.spec!.containers[0]!.ports!.map((p) => p.containerPort)).toEqual([80, 8080, 15021]);
    const service = await core.readNamespacedService({ namespace: ns, name: 'roll' });
    expect(service.spec!.ports!.map((p) => p.port)).toEqual([80, 8080]);
    const pdb = await eventually('the PodDisruptionBudget', () => present(policy.readNamespacedPodDisruptionBudget({ namespace: ns, name: 'roll' })));
    expect(pdb.spec).toMatchObject({ minAvailable: 1, selector: { matchLabels: { app: 'roll' } } });
    await eventually('a second ReplicaSet (the roll)', async () => {
      const sets = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'weft.dev/gateway-name=roll' });
      return sets.items.length === 2 ? true : undefined;
    });
    await conditionOf(ns, 'roll', 'Programmed', 'True');

    patchGateway(ns, 'roll', { spec: { deployment: { replicas: null, autoscaling: { minReplicas: 2, maxReplicas: 3 } } } });
    const hpa = await eventually('the HorizontalPodAutoscaler', () => present(autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'roll' })));
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 3, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'roll' } });
    expect(hpa.spec!.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    expect(hpa.spec!.behavior?.scaleDown?.policies).not.toEqual([{ type: 'Pods', value: 2, periodSeconds: 300 }]); // Kubernetes' defaults, not cdk8s's
    await eventually('the HPA to scale the Deployment to minReplicas', async () =>
      (await apps.readNamespacedDeployment({ namespace: ns, name: 'roll' })).spec!.replicas === 2 ? true : undefined);
    await conditionOf(ns, 'roll', 'Programmed', 'True');

    patchGateway(ns, 'roll', { spec: { deployment: { autoscaling: null, podDisruptionBudget: null, replicas: 1 } } });
    await eventually('the PDB and HPA to be pruned', async () => {
      const gone = await Promise.all([
        absent(policy.readNamespacedPodDisruptionBudget({ namespace: ns, name: 'roll' })),
        absent(autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'roll' })),
      ]);
      return gone.every(Boolean) ? true : undefined;
    });
    await eventually('replicas back to 1', async () => ((await apps.readNamespacedDeployment({ namespace: ns, name: 'roll' })).spec!.replicas === 1 ? true : undefined));
    expect(kubectl('describe', 'gateways.weft.dev', 'roll', '-n', ns)).toMatch(/Normal\s+Deleted\s+.*deleted (HorizontalPodAutoscaler roll, PodDisruptionBudget roll|PodDisruptionBudget roll, HorizontalPodAutoscaler roll)/);
  });

  it('refuses the later of two Gateways claiming the same TLS host and port on one workload (plain HTTP hosts are shared), and the first keeps serving', async () => {
    const passthrough = (hosts: string[]) => ({ port: { number: 443, name: 'tls-443', protocol: 'TLS' }, hosts, tls: { mode: 'PASSTHROUGH' } });
    await create(ns, gateway('shop', { selector: { app: 'shop' }, servers: [http(80, ['shop.example.com']), passthrough(['shop.example.com'])], deployment: { replicas: 1 } }));
    const first = await conditionOf(ns, 'shop', 'Programmed', 'True');
    const deployment = await apps.readNamespacedDeployment({ namespace: ns, name: 'shop' });

    // The same workload (selector), the same ports, an overlapping host: Envoy cannot tell two TLS claims apart by
    // SNI, while plain HTTP servers share one route table (as in Istio).
    await create(ns, gateway('shop-wildcard', { selector: { app: 'shop' }, servers: [http(80, ['*.example.com']), passthrough(['*.example.com'])] }));
    const refused = await conditionOf(ns, 'shop-wildcard', 'Accepted', 'False');
    expect(condition(refused.status!.conditions, 'Accepted')).toMatchObject({
      reason: 'HostConflict',
      message: `spec.servers[1].hosts: host *.example.com on port 443 is already claimed (as shop.example.com) by Gateway ${ns}/shop (servers[1]) on the same workload`,
    });
    expect(condition(refused.status!.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'HostConflict' });
    expect(condition(refused.status!.servers![0]!.conditions, 'Accepted')).toMatchObject({ status: 'True' });
    expect(condition(refused.status!.servers![1]!.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'HostConflict' });
    await eventually('the HostConflict warning', async () =>
      /Warning\s+HostConflict/.test(kubectl('describe', 'gateways.weft.dev', 'shop-wildcard', '-n', ns)) ? true : undefined);

    // A second Gateway that would deploy pods the first one's Deployment also selects.
    await create(ns, gateway('shop-admin', { selector: { app: 'shop' }, servers: [http(9090, ['admin.example.com'])], deployment: { replicas: 1 } }));
    const rival = await conditionOf(ns, 'shop-admin', 'Accepted', 'False');
    expect(condition(rival.status!.conditions, 'Accepted')!.reason).toBe('DeploymentConflict');
    expect(condition(rival.status!.conditions, 'Accepted')!.message).toContain(`Gateway ${ns}/shop already deploys pods labelled {app=shop}`);
    expect(await absent(apps.readNamespacedDeployment({ namespace: ns, name: 'shop-admin' }))).toBe(true);

    // The first one still serves, untouched.
    const still = await conditionOf(ns, 'shop', 'Ready', 'True');
    expect(condition(still.status!.conditions, 'Accepted')).toMatchObject({ status: 'True', observedGeneration: first.metadata.generation });
    expect(condition(still.status!.conditions, 'Programmed')!.status).toBe('True');
    const after = await apps.readNamespacedDeployment({ namespace: ns, name: 'shop' });
    expect(after.metadata!.uid).toBe(deployment.metadata!.uid);
    expect(after.metadata!.generation).toBe(deployment.metadata!.generation);
  });

  it('does not take over an object of the same name that someone else made', async () => {
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'squatter' }, spec: { selector: { app: 'mine' }, ports: [{ name: 'web', port: 1234 }] } },
    });
    await create(ns, gateway('squatter', { selector: { app: 'squatter' }, servers: [http(80, ['squat.example.com'])], deployment: { replicas: 1 } }));
    const blocked = await conditionOf(ns, 'squatter', 'Programmed', 'False');
    expect(condition(blocked.status!.conditions, 'Programmed')).toMatchObject({
      reason: 'NameConflict',
      message: expect.stringContaining('Service squatter already exists and was not created by Weft'),
    });
    const service = await core.readNamespacedService({ namespace: ns, name: 'squatter' });
    expect(service.spec!.selector).toEqual({ app: 'mine' });
    expect(service.metadata!.ownerReferences).toBeUndefined();
  });

  it('reports a TLS server whose Secret is missing, and turns Ready once the Secret exists', async () => {
    await create(ns, gateway('secure', {
      selector: { app: 'secure' },
      servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['secure.example.com'], tls: { mode: 'SIMPLE', credentialName: 'secure-cert' } }, http(80, ['secure.example.com'])],
      deployment: { replicas: 1, serviceType: 'ClusterIP' },
    }));
    await conditionOf(ns, 'secure', 'ResolvedRefs', 'False');
    const missing = await conditionOf(ns, 'secure', 'Programmed', 'True'); // the pods run; the HTTPS server cannot serve
    expect(condition(missing.status!.conditions, 'ResolvedRefs')).toMatchObject({
      reason: 'CredentialNotFound',
      message: expect.stringContaining(`spec.servers[0].tls.credentialName: Secret ${ns}/secure-cert of type kubernetes.io/tls not found`),
    });
    expect(condition(missing.status!.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'CredentialNotFound' });
    const [https, plain] = missing.status!.servers!;
    expect(condition(https!.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'CredentialNotFound' });
    expect(condition(plain!.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True' });

    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'secure-cert' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from('demo').toString('base64'), 'tls.key': Buffer.from('demo').toString('base64') } },
    });
    const resolved = await conditionOf(ns, 'secure', 'Ready', 'True');
    expect(condition(resolved.status!.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True' });
    expect(condition(resolved.status!.servers![0]!.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', message: 'Secret secure-cert found' });
  });
});

describe('a gateway proxy on the xDS server', () => {
  it('gets a listener per port, routes from the bound VirtualService, its certificates over SDS; a missing Secret is reported', async () => {
    const host = `ratings.${ns}.svc.cluster.local`;
    const cert = await newRoot(DEFAULT_CA_CONFIG, Date.now());
    const second = await newRoot(DEFAULT_CA_CONFIG, Date.now() + 1);
    for (const [name, c] of [['shop-cert', cert], ['shop-cert-2', second]] as const) {
      await core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(c.certPem).toString('base64'), 'tls.key': Buffer.from(c.keyPem).toString('base64') } },
      });
    }
    await custom.createNamespacedCustomObject({
      group: 'weft.dev', version: 'v1alpha1', namespace: ns, plural: 'serviceentries',
      body: { apiVersion: 'weft.dev/v1alpha1', kind: 'ServiceEntry', metadata: { name: 'ratings' }, spec: { hosts: [host], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 9080, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: '127.0.0.5' }] } },
    });
    await create(ns, gateway('front', {
      selector: { app: 'front' },
      servers: [
        { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'], tls: { httpsRedirect: true } },
        { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } },
        { port: { number: 8443, name: 'admin', protocol: 'HTTPS' }, hosts: ['admin.example.com'], tls: { mode: 'SIMPLE', credentialName: 'no-such-cert' } },
        // Two certificates side by side (credentialNames: an RSA and an ECDSA one, say): both on one chain, both over SDS.
        { port: { number: 9443, name: 'dual', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialNames: ['shop-cert', 'shop-cert-2'] } },
      ],
      deployment: { replicas: 1, serviceType: 'ClusterIP' },
    }));
    const routeTo = (prefix: string) => ({
      apiVersion: 'weft.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'shop' },
      spec: { hosts: ['shop.example.com'], gateways: ['front'], http: [{ match: [{ uri: { prefix } }], route: [{ destination: { host, port: { number: 9080 } } }] }] },
    });
    await custom.createNamespacedCustomObject({ group: 'weft.dev', version: 'v1alpha1', namespace: ns, plural: 'virtualservices', body: routeTo('/api') });

    // An Envoy-like proxy with the node id the generated bootstrap gives pod front-0: wildcard LDS and CDS, then the
    // routes and secrets its listeners name, every response decoded with Envoy's protos and ACKed.
    const proxy = GatewayProxy.connect(`127.0.0.1:${xdsPort}`, `router~${ns}~front~front-0`);
    try {
      const httpsRoutes = `https.443.${ns}.front.1`;
      const config = await eventually('the gateway proxy to hold its listeners, routes and certificate', async () => {
        const c = proxy.config();
        return c.routes.get(httpsRoutes) && c.secrets.has(`kubernetes://${ns}/shop-cert-2`) && c.routes.get('http.80') ? c : undefined;
      });
      // One listener per servable port; 8443's Secret does not exist, so it is left out rather than left warming.
      expect([...config.listeners.keys()].sort()).toEqual(['0.0.0.0_443', '0.0.0.0_80', '0.0.0.0_9443']);
      expect(config.listeners.get('0.0.0.0_9443')!.chains).toEqual([
        { serverNames: ['shop.example.com'], routes: `https.9443.${ns}.front.3`, sdsSecrets: [`kubernetes://${ns}/shop-cert`, `kubernetes://${ns}/shop-cert-2`] },
      ]);
      expect(config.secrets.get(`kubernetes://${ns}/shop-cert-2`)).toEqual({ certificateChain: second.certPem, privateKey: second.keyPem });
      const tls = config.listeners.get('0.0.0.0_443')!;
      expect(tls.listenerFilters).toEqual(['envoy.filters.listener.tls_inspector']);
      expect(tls.chains).toEqual([{ serverNames: ['shop.example.com'], routes: httpsRoutes, sdsSecrets: [`kubernetes://${ns}/shop-cert`] }]);
      // The SDS secret carries the Secret's certificate and key.
      const secret = config.secrets.get(`kubernetes://${ns}/shop-cert`)!;
      expect(secret.certificateChain).toBe(cert.certPem);
      expect(secret.privateKey).toBe(cert.keyPem);
      // Port 80 redirects to https; port 443 routes by the VirtualService to the ServiceEntry's cluster, which CDS has.
      expect(config.routes.get('http.80')).toEqual([{ domains: ['shop.example.com', 'shop.example.com:80'], requireTls: 'ALL', routes: [] }]);
      expect(config.routes.get(httpsRoutes)).toEqual([{ domains: ['shop.example.com', 'shop.example.com:443'], routes: [{ prefix: '/api', cluster: `outbound|9080||${host}` }] }]);
      expect(config.clusters).toContain(`outbound|9080||${host}`);
      expect(config.listeners.has('virtualOutbound')).toBe(false); // a gateway is not a sidecar

      // Status: the missing Secret is named; the gateway is programmed with its one proxy's ACK.
      const programmed = await eventually('Programmed with the proxy’s ACK', async () => {
        const gw = await getGateway(ns, 'front');
        const c = condition(gw.status?.conditions, 'Programmed');
        return c?.status === 'True' && /1\/1 gateway proxies ACKed/.test(c.message) ? gw : undefined;
      });
      expect(condition(programmed.status!.conditions, 'ResolvedRefs')).toMatchObject({
        status: 'False', reason: 'CredentialNotFound', message: expect.stringContaining(`Secret ${ns}/no-such-cert of type kubernetes.io/tls not found`),
      });
      expect(condition(programmed.status!.servers![2]!.conditions, 'Programmed')).toMatchObject({ status: 'False', reason: 'CredentialNotFound' });
      expect(programmed.status!.synced).toBe('1/1'); // the SYNCED column of kubectl get gateway

      // A VirtualService change reaches the proxy's RDS without touching the Gateway.
      kubectl('patch', 'virtualservice.weft.dev', 'shop', '-n', ns, '--type', 'json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/http/0/match/0/uri/prefix', value: '/v2' }]));
      await eventually('the new route on the proxy', async () => (proxy.config().routes.get(httpsRoutes)?.[0]?.routes[0]?.prefix === '/v2' ? true : undefined));
      expect(proxy.rejected()).toEqual([]);
    } finally {
      proxy.close();
    }
  });
});

describe("Istio's samples on one ingress", () => {
  it('merges Gateways that all claim * on port 80: one virtual host, the routes of both VirtualServices, the older first', async () => {
    const host = `details.${ns}.svc.cluster.local`;
    await custom.createNamespacedCustomObject({
      group: 'weft.dev', version: 'v1alpha1', namespace: ns, plural: 'serviceentries',
      body: { apiVersion: 'weft.dev/v1alpha1', kind: 'ServiceEntry', metadata: { name: 'details' }, spec: { hosts: [host], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 9080, name: 'http', protocol: 'http' }], endpoints: [{ address: '127.0.0.6' }] } },
    });
    const sample = (name: string, prefix: string) => ({
      gateway: gateway(`${name}-gateway`, { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] }),
      route: {
        apiVersion: 'weft.dev/v1alpha1', kind: 'VirtualService', metadata: { name },
        spec: { hosts: ['*'], gateways: [`${name}-gateway`], http: [{ match: [{ uri: { prefix } }], route: [{ destination: { host, port: { number: 9080 } } }] }] },
      },
    });
    const bookinfo = sample('bookinfo', '/productpage');
    await create(ns, bookinfo.gateway);
    await custom.createNamespacedCustomObject({ group: 'weft.dev', version: 'v1alpha1', namespace: ns, plural: 'virtualservices', body: bookinfo.route });
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has one-second resolution: httpbin is the younger
    const httpbin = sample('httpbin', '/headers');
    await create(ns, httpbin.gateway);
    await custom.createNamespacedCustomObject({ group: 'weft.dev', version: 'v1alpha1', namespace: ns, plural: 'virtualservices', body: httpbin.route });
    const accepted = await conditionOf(ns, 'httpbin-gateway', 'Accepted', 'True');
    expect(condition(accepted.status!.conditions, 'Accepted')!.message).toContain(`hosts shared on port 80 with Gateway ${ns}/bookinfo-gateway (servers[0])`);

    const proxy = GatewayProxy.connect(`127.0.0.1:${xdsPort}`, `router~${ns}~bookinfo-gateway~ingress-0`);
    try {
      const routes = await eventually('both samples\' routes on the ingress', async () => {
        const r = proxy.config().routes.get('http.80');
        return r?.[0]?.routes.length === 2 ? r : undefined;
      });
      expect(routes).toEqual([{ domains: ['*'], routes: [{ prefix: '/productpage', cluster: `outbound|9080||${host}` }, { prefix: '/headers', cluster: `outbound|9080||${host}` }] }]);
      expect(proxy.rejected()).toEqual([]);
      // Both Gateways report the proxy that holds their routes.
      for (const name of ['bookinfo-gateway', 'httpbin-gateway']) {
        await eventually(`${name} Programmed with the proxy's ACK`, async () => {
          const c = condition((await getGateway(ns, name)).status?.conditions, 'Programmed');
          return c?.status === 'True' && /1\/1 gateway proxies ACKed/.test(c.message) ? true : undefined;
        });
      }
    } finally {
      proxy.close();
    }
  });
});

describe('a gateway proxy through its weft agent (the authenticated port)', () => {
  const agents: AgentRun[] = [];
  afterAll(async () => {
    for (const agent of agents) await agent.stop();
  });

  /** `weft agent` for ServiceAccount `sa` (the pod's token and roots); resolves with its xDS relay's address. */
  async function agentFor(sa: string, pod: string): Promise<string> {
    const roots = await eventually('the trust bundle', async () => (await core.readNamespacedConfigMap({ namespace: ns, name: 'weft-root-ca' }).catch(() => undefined))?.data?.['root-cert.pem']);
    const agent = startAgent({ caPort: await caPortOf(operator!), token: await serviceAccountToken(kc, ns, sa), rootsPem: roots, extraArgs: [`--pod-name=${pod}`] });
    agents.push(agent);
    return eventually(`the ${sa} agent's xDS relay`, async () => {
      const bootstrap = await readFile(join(agent.dir, 'bootstrap.json'), 'utf8').catch(() => undefined);
      return bootstrap ? (JSON.parse(bootstrap) as { xds_servers: Array<{ server_uri: string }> }).xds_servers[0]!.server_uri : undefined;
    });
  }

  it('serves the gateway’s config and certificate to its own ServiceAccount, and refuses another', async () => {
    const cert = await newRoot(DEFAULT_CA_CONFIG, Date.now());
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'vault-cert' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') } },
    });
    await create(ns, gateway('vault', {
      selector: { app: 'vault' },
      servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['vault.example.com'], tls: { mode: 'SIMPLE', credentialName: 'vault-cert' } }],
      deployment: { replicas: 1, serviceType: 'ClusterIP' },
    }));
    await eventually('the generated ServiceAccount vault', () => present(core.readNamespacedServiceAccount({ namespace: ns, name: 'vault' })));

    const own = GatewayProxy.connect(await agentFor('vault', 'vault-0'), `router~${ns}~vault~vault-0`);
    const stranger = GatewayProxy.connect(await agentFor('default', 'vault-1'), `router~${ns}~vault~vault-1`);
    try {
      const secret = await eventually('the certificate at the gateway’s own proxy', async () => own.config().secrets.get(`kubernetes://${ns}/vault-cert`));
      expect(secret.privateKey).toBe(cert.keyPem);
      const refused = await eventually('the other ServiceAccount’s stream to be refused', async () => stranger.ended());
      expect(refused).toMatchObject({ code: 7, details: expect.stringContaining(`ns/${ns}/sa/default may not receive the config of gateway ${ns}/vault: only its ServiceAccount vault may`) });
      expect(stranger.config().secrets.size).toBe(0);
      expect(stranger.config().listeners.size).toBe(0);
    } finally {
      own.close();
      stranger.close();
    }
  });
});

describe('200 Gateways', () => {
  const COUNT = 200;
  it(`are synthesized, applied and all reach Accepted (time reported, not asserted)`, async () => {
    const namespace = await throwawayNamespace(kc, 'gateway-scale');
    namespaces.push(namespace);
    const started = performance.now();
    const names = Array.from({ length: COUNT }, (_, i) => `gw-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) =>
        create(namespace.name, gateway(name, { selector: { app: name }, servers: [http(80, [`${name}.example.com`])], deployment: { replicas: 1, serviceType: 'ClusterIP' } }))));
    }
    const createdMs = performance.now() - started;
    const countWith = async (type: string): Promise<number> => {
      const list = (await custom.listNamespacedCustomObject({ ...group, namespace: namespace.name })) as { items: GatewayObject[] };
      return list.items.filter((gw) => {
        const c = condition(gw.status?.conditions, type);
        return c?.status === 'True' && c.observedGeneration === gw.metadata.generation;
      }).length;
    };
    await eventually(`${COUNT} Gateways Accepted`, async () => ((await countWith('Accepted')) === COUNT ? true : undefined), 300_000, 1000);
    const acceptedMs = performance.now() - started;
    await eventually(`${COUNT} Gateways Programmed`, async () => ((await countWith('Programmed')) === COUNT ? true : undefined), 300_000, 1000);
    const programmedMs = performance.now() - started;
    const deployments = await apps.listNamespacedDeployment({ namespace: namespace.name });
    expect(deployments.items).toHaveLength(COUNT);
    console.log(`${COUNT} Gateways: created in ${(createdMs / 1000).toFixed(1)} s, all Accepted after ${(acceptedMs / 1000).toFixed(1)} s, all Programmed after ${(programmedMs / 1000).toFixed(1)} s`);
    const metric = async (name: string, labels: Record<string, string>) => (await operator!.metric(name, labels)) ?? 0;
    const reconciles = await metric('controller_runtime_reconcile_time_seconds_count', { controller: 'gateway' });
    const reconcileSeconds = await metric('controller_runtime_reconcile_time_seconds_sum', { controller: 'gateway' });
    const queued = await metric('workqueue_queue_duration_seconds_count', { name: 'gateway' });
    const queuedSeconds = await metric('workqueue_queue_duration_seconds_sum', { name: 'gateway' });
    console.log(
      `gateway reconciles: ${reconciles} (${await metric('controller_runtime_reconcile_errors_total', { controller: 'gateway' })} errors), ` +
        `mean ${((reconcileSeconds / reconciles) * 1000).toFixed(0)} ms each, mean ${((queuedSeconds / queued) * 1000).toFixed(0)} ms queued`,
    );
  }, 660_000);
});
