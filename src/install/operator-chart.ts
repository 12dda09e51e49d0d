// The operator's install manifests (namespace, ServiceAccount, least-privilege RBAC, Deployment, Service),
// synthesized with cdk8s so that manifests/ is generated from src like the CRDs are.
import { ApiObject, App, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import type { Construct } from 'constructs';
import { INJECT_NAMESPACE_LABEL, INJECT_PATH, INJECT_POD_KEY, ISTIO_INJECT_POD_KEY, NEVER_INJECTED, WEBHOOK_CONFIGURATION, WEBHOOK_PORT } from '../inject/names.js';

import { CA_PORT, LEASE_NAME, METRICS_PORT, OPERATOR_IMAGE, OPERATOR_NAME, OPERATOR_NAMESPACE, OPERATOR_NODE_OPTIONS } from './names.js';
export { CA_PORT, LEASE_NAME, METRICS_PORT, OPERATOR_IMAGE, OPERATOR_NAME, OPERATOR_NAMESPACE, OPERATOR_NODE_OPTIONS };

/** Everything the operator reads or writes, one rule per reason. Keep in step with what src/ touches. */
export const clusterRules: k8s.PolicyRule[] = [
  // The mesh resources: read them, report status, and own children with blockOwnerDeletion (finalizers).
  {
    apiGroups: ['weft.dev'],
    resources: ['meshpolicies', 'virtualservices', 'destinationrules', 'gateways', 'serviceentries', 'workloadentries'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['weft.dev'],
    resources: ['meshpolicies/status', 'virtualservices/status', 'destinationrules/status', 'gateways/status', 'serviceentries/status', 'workloadentries/status'],
    verbs: ['get', 'patch', 'update'],
  },
  // Kubernetes Services are mesh hosts; ServiceAccounts are workload identities.
  { apiGroups: [''], resources: ['services', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] },
  // A Service's endpoints: the EndpointSlices labelled kubernetes.io/service-name.
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  // Endpoints carry their Pod's labels and ServiceAccount and their Node's locality (cached stripped).
  { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['list', 'watch'] },
  // The injection webhook's caBundle follows the CA's trust bundle (only this configuration).
  { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['list', 'watch'] },
  { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], resourceNames: [WEBHOOK_CONFIGURATION], verbs: ['get', 'patch'] },
  // The CA: verify callers' ServiceAccount tokens; keep the trust bundle ConfigMap weft-root-ca in every namespace.
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update'] },
  // Events explain condition transitions in `kubectl describe`.
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  // Gateways with spec.deployment: the objects Weft generates for them (applied server-side, pruned when the spec
  // drops them), and the `gateways/finalizers` update that blockOwnerDeletion on their owner references requires.
  { apiGroups: [''], resources: ['services', 'serviceaccounts'], verbs: ['create', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['weft.dev'], resources: ['gateways/finalizers'], verbs: ['update'] },
  // Gateway servers' TLS credentials (tls.credentialName). RBAC cannot narrow Secrets by type; the informer only
  // lists kubernetes.io/tls ones.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
];

/** Namespaced rules in weft-system: the leader-election Lease, and the CA Secrets. */
export const namespaceRules: k8s.PolicyRule[] = [
  // Every replica reads the CA Secret weft-ca (and the user's plug-in CA, cacerts); only the leader writes weft-ca.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: [''], resources: ['secrets'], resourceNames: ['weft-ca'], verbs: ['update', 'patch'] },
  // Each replica deletes its xDS sync summary on shutdown; the leader deletes abandoned ones and old config dump requests.
  { apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [LEASE_NAME], verbs: ['get', 'update', 'patch'] },
];

export class OperatorChart extends Chart {
  constructor(scope: Construct, id: string, image = OPERATOR_IMAGE) {
    super(scope, id, { disableResourceNameHashes: true });
    const namespace = OPERATOR_NAMESPACE;
    const labels = { 'app.kubernetes.io/name': OPERATOR_NAME, 'app.kubernetes.io/part-of': 'weft' };

    new kplus.Namespace(this, 'namespace', { metadata: { name: OPERATOR_NAMESPACE } });
    const serviceAccount = new kplus.ServiceAccount(this, 'service-account', {
      metadata: { name: OPERATOR_NAME, namespace, labels },
      automountToken: true,
    });

    new k8s.KubeClusterRole(this, 'cluster-role', { metadata: { name: OPERATOR_NAME, labels }, rules: clusterRules });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: { name: OPERATOR_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
      subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE }],
    });
    new k8s.KubeRole(this, 'role', { metadata: { name: OPERATOR_NAME, namespace, labels }, rules: namespaceRules });
    new k8s.KubeRoleBinding(this, 'role-binding', {
      metadata: { name: OPERATOR_NAME, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
      subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE }],
    });

    const deployment = new kplus.Deployment(this, 'deployment', {
      metadata: { name: OPERATOR_NAME, namespace, labels },
      replicas: 2,
      serviceAccount,
      automountServiceAccountToken: true, // the operator talks to the API server as its ServiceAccount
      // Stable selector labels rather than cdk8s-plus's generated ones, so upgrades never orphan pods.
      select: false,
      podMetadata: { labels },
      securityContext: { ensureNonRoot: true, user: 65532, group: 65532, fsGroup: 65532 },
      containers: [
        {
          name: 'operator',
          image,
          // Every replica serves xDS from its own caches on the authenticated port it shares with the CA (TLS:
          // workloads' agents relay there with their ServiceAccount tokens); no plaintext xDS port.
          args: ['operator', '--leader-elect', `--metrics-port=${METRICS_PORT}`, '--xds', `--webhook-port=${WEBHOOK_PORT}`],
          ports: [
            { name: 'http-metrics', number: METRICS_PORT },
            { name: 'grpc-xds', number: CA_PORT },
            { name: 'https-webhook', number: WEBHOOK_PORT },
          ],
          envVariables: {
            NODE_OPTIONS: kplus.EnvValue.fromValue(OPERATOR_NODE_OPTIONS),
            POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
            POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
          },
          securityContext: { ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, user: 65532, group: 65532 },
          resources: {
            cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(2) },
            memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) },
          },
          liveness: kplus.Probe.fromHttpGet('/healthz', { port: METRICS_PORT, periodSeconds: Duration.seconds(10) }),
          readiness: kplus.Probe.fromHttpGet('/readyz', { port: METRICS_PORT, periodSeconds: Duration.seconds(5) }),
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels }));
    // cdk8s-plus labels pods with its construct address; that label would change with the code's shape.
    ApiObject.of(deployment).addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));

    const service = new kplus.Service(this, 'service', {
      metadata: { name: OPERATOR_NAME, namespace, labels },
      ports: [
        { name: 'http-metrics', port: METRICS_PORT, targetPort: METRICS_PORT },
        // xDS and the CA, over TLS (Istio's istiod port 15012 does the same).
        { name: 'grpc-xds', port: CA_PORT, targetPort: CA_PORT },
        { name: 'https-webhook', port: WEBHOOK_PORT, targetPort: WEBHOOK_PORT },
      ],
    });
    for (const [key, value] of Object.entries(labels)) service.selectLabel(key, value);

    // Sidecar injection: namespaces labelled weft.dev/inject=enabled, Pods not labelled sidecar.weft.dev/inject=false,
    // never the mesh's or the cluster's own namespaces. failurePolicy Fail: a Pod that should be meshed never starts
    // unmeshed (under STRICT mTLS it could not talk to anyone); while no replica answers, Pod creation in those
    // namespaces fails and the ReplicaSet retries (docs/injection.md). The caBundle is the operator's to keep.
    new k8s.KubeMutatingWebhookConfiguration(this, 'sidecar-injector', {
      metadata: { name: WEBHOOK_CONFIGURATION, labels },
      webhooks: [
        {
          name: 'sidecar.weft.dev',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          reinvocationPolicy: 'Never',
          timeoutSeconds: 10,
          clientConfig: { service: { name: OPERATOR_NAME, namespace, path: INJECT_PATH, port: WEBHOOK_PORT } },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
          namespaceSelector: {
            matchLabels: { [INJECT_NAMESPACE_LABEL]: 'enabled' },
            matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: NEVER_INJECTED }],
          },
          objectSelector: { matchExpressions: [INJECT_POD_KEY, ISTIO_INJECT_POD_KEY].map((key) => ({ key, operator: 'NotIn', values: ['false'] })) },
        },
      ],
    });
  }
}

/** Synthesizes the install manifests as plain objects, in apply order. */
export function operatorManifests(image?: string): Array<Record<string, unknown>> {
  const app = new App();
  const chart = new OperatorChart(app, 'weft', image);
  return chart.toJson() as Array<Record<string, unknown>>;
}
