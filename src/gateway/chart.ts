// The objects Weft runs a Gateway with, as a cdk8s-plus chart synthesized in memory: ServiceAccount, Deployment
// (Envoy), Service, and a PodDisruptionBudget and HorizontalPodAutoscaler when the spec asks for them.
//
// cdk8s-plus chooses defaults for a generic app; a gateway needs different ones, each overridden on purpose:
// - names are the Gateway's (no hashes), selectors are the Gateway's `selector` (not cdk8s's generated labels),
//   and the construct-address label cdk8s puts on pods is removed: none of them may change with Weft's code;
// - resources come from the spec (or small Envoy-sized defaults), not cdk8s's 1 CPU / 512 MiB request;
// - replicas come from the spec (1 by default, not 2), and are left to the HPA when autoscaling is on;
// - the pod runs as Envoy's own uid 101, read-only root filesystem, no privilege escalation, no capabilities;
//   binding ports below 1024 as non-root comes from the namespaced sysctl `ip_unprivileged_port_start`;
// - no API token is mounted (nothing in the pod calls the Kubernetes API); the `weft agent` beside Envoy gets a
//   projected token for the CA's audience only, with which it relays Envoy's ADS to the operator;
// - rollouts never take a serving pod away before its replacement is ready (maxUnavailable 0);
// - the HPA uses Kubernetes' default scaling behaviour rather than cdk8s's own, and the Service does not claim
//   `externalIPs`.
import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import type { Construct } from 'constructs';
import type { Gateway, GatewaySpec } from '../api/index.js';
import { TRUST_BUNDLE_CONFIGMAP } from '../ca/trust-bundle.js';
import { controllerRef } from '../controllers/index.js';
import { OPERATOR_IMAGE } from '../install/names.js';
import { AGENT_CREDENTIALS_DIR } from '../security/envoy-tls.js';
import { envoyBootstrap, READINESS_PATH, STATUS_PORT, XDS_ADDRESS } from './bootstrap.js';
import { stableHash } from './hash.js';
import { ENVOY_IMAGE, GENERATED_HASH_ANNOTATION, generatedLabels, generatedName, selectorLabels, SPEC_HASH_ANNOTATION } from './names.js';
import { GENERATED_KINDS, type GeneratedKind, type GeneratedObject } from './resources.js';
import { servicePorts } from './ports.js';

export { ENVOY_IMAGE };
/** The uid and gid of the `envoy` user in the Envoy image. */
export const ENVOY_UID = 101;

/** Requests and limits when the spec sets no `deployment.resources` (Istio's gateway defaults). */
export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '2', memory: '1Gi' },
} as const;

export const DEFAULT_TARGET_CPU_UTILIZATION = 80;

/**
 * The `weft agent` runs from Weft's own image, as Envoy's user: Envoy reads the workload key the agent writes (mode
 * 0600) to speak mTLS to the mesh, as Istio's proxy and pilot-agent share one uid.
 */
export const AGENT_UID = ENVOY_UID;
/** Where the agent expects its projected token and first roots (its flag defaults), and writes its files. */
const AGENT_TOKEN_DIR = '/var/run/secrets/weft/tokens';
const AGENT_ROOT_CA_DIR = '/var/run/secrets/weft/root-ca';
const AGENT_OUTPUT_DIR = AGENT_CREDENTIALS_DIR;
/** The agent relays bytes and renews a certificate: it needs little. */
export const AGENT_RESOURCES = { requests: { cpu: '10m', memory: '48Mi' }, limits: { cpu: '500m', memory: '192Mi' } } as const;

export interface GatewayChartOptions {
  /** The Envoy image. */
  image?: string;
  /** The Weft image the `weft agent` container runs. */
  agentImage?: string;
}

export class GatewayChart extends Chart {
  constructor(scope: Construct, id: string, gw: Gateway, options: GatewayChartOptions = {}) {
    super(scope, id, { namespace: gw.metadata.namespace!, disableResourceNameHashes: true });
    const deploymentSpec = gw.spec.deployment ?? {};
    const name = generatedName(gw);
    const labels = generatedLabels(gw);
    const selector = selectorLabels(gw);
    const metadata = { name, labels };

    const serviceAccount = new kplus.ServiceAccount(this, 'service-account', { metadata, automountToken: false });

    const ports = servicePorts(gw.spec.servers);
    const agentFiles = kplus.Volume.fromEmptyDir(this, 'agent-files', 'weft-agent');
    const deployment = new kplus.Deployment(this, 'deployment', {
      metadata,
      replicas: deploymentSpec.autoscaling ? undefined : (deploymentSpec.replicas ?? 1),
      select: false,
      podMetadata: { labels, annotations: { [SPEC_HASH_ANNOTATION]: podSpecHash(gw.spec) } },
      serviceAccount,
      automountServiceAccountToken: false,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      securityContext: {
        ensureNonRoot: true,
        user: ENVOY_UID,
        group: ENVOY_UID,
        sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
      },
      containers: [
        {
          name: 'envoy',
          image: options.image ?? ENVOY_IMAGE,
          imagePullPolicy: kplus.ImagePullPolicy.ALWAYS,
          command: ['envoy'],
          // Kubernetes expands $(POD_NAME) in the bootstrap's node id.
          args: ['--config-yaml', JSON.stringify(envoyBootstrap(gw)), '--disable-hot-restart', '--log-level', 'info'],
          envVariables: {
            POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
            POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
          },
          ports: [
            ...[...new Set(ports.map((p) => p.targetPort))].map((number) => ({ number })),
            { name: 'status-port', number: STATUS_PORT },
          ],
          readiness: kplus.Probe.fromHttpGet(READINESS_PATH, { port: STATUS_PORT }),
          securityContext: {
            ensureNonRoot: true,
            user: ENVOY_UID,
            group: ENVOY_UID,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
          },
          // The agent's certificate files: Envoy reads them through the `default`/`ROOTCA` SDS secrets (paths only).
          volumeMounts: [
            { path: '/tmp', volume: kplus.Volume.fromEmptyDir(this, 'tmp', 'tmp') },
            { path: AGENT_OUTPUT_DIR, readOnly: true, volume: agentFiles },
          ],
        },
        {
          // Envoy's xDS endpoint on loopback: TLS to the operator that verifies its SPIFFE ID, the pod's token.
          name: 'weft-agent',
          image: options.agentImage ?? OPERATOR_IMAGE,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT, // a pinned release
          args: ['agent', `--xds-address=${XDS_ADDRESS.host}:${XDS_ADDRESS.port}`],
          envVariables: {
            POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
            POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
          },
          securityContext: {
            ensureNonRoot: true,
            user: AGENT_UID,
            group: AGENT_UID,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
          },
          volumeMounts: [
            { path: AGENT_ROOT_CA_DIR, readOnly: true, volume: kplus.Volume.fromConfigMap(this, 'root-ca', kplus.ConfigMap.fromConfigMapName(this, 'root-ca-map', TRUST_BUNDLE_CONFIGMAP), { name: 'weft-root-ca' }) },
            { path: AGENT_OUTPUT_DIR, volume: agentFiles },
          ],
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels: selector }));
    const deploymentObject = ApiObject.of(deployment);
    deploymentObject.addJsonPatch(
      JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
      JsonPatch.add('/spec/template/spec/containers/0/resources', resourceRequirements(deploymentSpec.resources ?? DEFAULT_RESOURCES)),
      // cdk8s-plus sets a policy for an fsGroup we do not use, and spells out defaults Weft need not own.
      JsonPatch.remove('/spec/template/spec/securityContext/fsGroupChangePolicy'),
      JsonPatch.remove('/spec/template/spec/hostNetwork'),
      JsonPatch.remove('/spec/minReadySeconds'),
      JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
      // cdk8s-plus has no name for "ALL" among its capabilities, and no projected token volumes.
      JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities', { drop: ['ALL'] }),
      JsonPatch.add('/spec/template/spec/containers/1/securityContext/capabilities', { drop: ['ALL'] }),
      JsonPatch.add('/spec/template/spec/containers/1/resources', resourceRequirements(AGENT_RESOURCES)),
      JsonPatch.add('/spec/template/spec/volumes/-', {
        name: 'weft-token',
        projected: { sources: [{ serviceAccountToken: { audience: 'weft-ca', expirationSeconds: 3600, path: 'weft-ca' } }] },
      }),
      JsonPatch.add('/spec/template/spec/containers/1/volumeMounts/-', { name: 'weft-token', mountPath: AGENT_TOKEN_DIR, readOnly: true }),
    );

    const service = new kplus.Service(this, 'service', {
      metadata,
      type: kplus.ServiceType[serviceTypeKey(deploymentSpec.serviceType)],
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: kplus.Protocol.TCP })),
    });
    for (const [key, value] of Object.entries(selector)) service.selectLabel(key, value);
    ApiObject.of(service).addJsonPatch(JsonPatch.remove('/spec/externalIPs'));

    const pdb = deploymentSpec.podDisruptionBudget;
    if (pdb) {
      new k8s.KubePodDisruptionBudget(this, 'pod-disruption-budget', {
        metadata,
        spec: {
          minAvailable: typeof pdb.minAvailable === 'number' ? k8s.IntOrString.fromNumber(pdb.minAvailable) : k8s.IntOrString.fromString(pdb.minAvailable),
          selector: { matchLabels: selector },
        },
      });
    }

    const autoscaling = deploymentSpec.autoscaling;
    if (autoscaling) {
      const hpa = new kplus.HorizontalPodAutoscaler(this, 'autoscaler', {
        metadata,
        target: deployment,
        minReplicas: autoscaling.minReplicas,
        maxReplicas: autoscaling.maxReplicas,
        metrics: [
          kplus.Metric.resourceCpu(
            kplus.MetricTarget.averageUtilization(autoscaling.targetCPUUtilizationPercentage ?? DEFAULT_TARGET_CPU_UTILIZATION),
          ),
        ],
      });
      ApiObject.of(hpa).addJsonPatch(JsonPatch.remove('/spec/behavior'));
    }

    // Owned by the Gateway: deleting it deletes them (garbage collection), and their events wake its reconciler.
    const owner = controllerRef(gw);
    for (const child of this.node.children) {
      if (child instanceof ApiObject || child instanceof kplus.Resource) {
        ApiObject.of(child).metadata.addOwnerReference(owner);
      }
    }
  }
}

type Quantities = Record<string, string | number>;
type Resources = { requests?: Quantities; limits?: Quantities };

/**
 * The container's resources exactly as the spec gives them (any resource name, any quantity syntax), which
 * cdk8s-plus's Cpu/Size types cannot express. Patches on a typed object pass through its JSON mapper, which
 * expects quantities wrapped as k8s.Quantity.
 */
function resourceRequirements(resources: Resources): k8s.ResourceRequirements {
  const quantity = (q: string | number) => (typeof q === 'number' ? k8s.Quantity.fromNumber(q) : k8s.Quantity.fromString(q));
  const wrap = (m: Quantities | undefined) => m && Object.fromEntries(Object.entries(m).map(([name, q]) => [name, quantity(q)]));
  return { requests: wrap(resources.requests), limits: wrap(resources.limits) };
}

type ServiceTypeKey = 'CLUSTER_IP' | 'NODE_PORT' | 'LOAD_BALANCER';

function serviceTypeKey(type: NonNullable<GatewaySpec['deployment']>['serviceType']): ServiceTypeKey {
  switch (type) {
    case 'ClusterIP':
      return 'CLUSTER_IP';
    case 'NodePort':
      return 'NODE_PORT';
    default:
      return 'LOAD_BALANCER';
  }
}

/**
 * A hash of everything in the spec except what only scales the workload (replicas, autoscaling, the PDB) or
 * shapes the Service: changing any of the rest rolls the pods, so a spec change is visibly picked up by fresh
 * proxies (until the xDS server pushes server changes live, this is how they reach the gateway).
 */
export function podSpecHash(spec: GatewaySpec): string {
  const { replicas: _replicas, autoscaling: _autoscaling, podDisruptionBudget: _pdb, serviceType: _serviceType, ...pod } = spec.deployment ?? {};
  return stableHash({ selector: spec.selector, servers: spec.servers, deployment: pod });
}

/**
 * The objects for `gw` (which must come from the API server: owner references need its uid), in apply order.
 * Each carries a hash of itself in an annotation, so a later reconcile can tell whether the live object still
 * holds exactly what Weft applied.
 */
export function renderGateway(gw: Gateway, options: GatewayChartOptions = {}): GeneratedObject[] {
  const chart = new GatewayChart(new App(), 'gateway', gw, options);
  const objects = chart.toJson() as Array<GeneratedObject['object']>;
  return objects
    .map((object) => ({ kind: object.kind as GeneratedKind, object: withGeneratedHash(object) }))
    .sort((a, b) => GENERATED_KINDS.indexOf(a.kind) - GENERATED_KINDS.indexOf(b.kind));
}

function withGeneratedHash(object: GeneratedObject['object']): GeneratedObject['object'] {
  const annotations = { ...object.metadata.annotations, [GENERATED_HASH_ANNOTATION]: stableHash(object) };
  return { ...object, metadata: { ...object.metadata, annotations } };
}
