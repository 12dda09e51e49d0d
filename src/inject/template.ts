// What injection adds to a Pod, per template (chosen by the annotation sidecar.weft.dev/template):
// - `sidecar`: an init container that captures the pod's traffic (`weft capture`: iptables, as istio-init), Envoy
//   (`weft-proxy`, its bootstrap inline: node id sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local, ADS to the agent,
//   admin on 127.0.0.1) and the `weft agent` (certificates, xDS relay to the operator with the pod's token);
// - `grpc` (proxyless): the agent, and GRPC_XDS_BOOTSTRAP plus the agent's files in the app containers.
// The user's containers keep their images, commands and ports; `grpc` adds an env var and a read-only mount only.
// Pure: the admission handler turns the result into a JSON patch.
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { Json } from '../controllers/object.js';
import { proxyBootstrap, READINESS_PATH, STATUS_PORT, XDS_ADDRESS, ADMIN_PORT } from '../gateway/bootstrap.js';
import { TRUST_BUNDLE_CONFIGMAP } from '../ca/trust-bundle.js';
import { AGENT_CREDENTIALS_DIR } from '../security/envoy-tls.js';
import { STATUS_ANNOTATION, type Template } from './names.js';

export type Pod = Json<V1Pod>;
type Container = Json<V1Container>;
type Volume = Json<V1Volume>;


/** Istio's proxy uid: the capture rules let its traffic through, and the agent shares it so Envoy reads the key. */
export const PROXY_UID = 1337;
export const PROXY_CONTAINER = 'weft-proxy';
export const AGENT_CONTAINER = 'weft-agent';
export const CAPTURE_CONTAINER = 'weft-capture';
const AGENT_FILES_VOLUME = 'weft-agent-files';
const ROOT_CA_VOLUME = 'weft-root-ca';
const TOKEN_VOLUME = 'weft-token';
/** Where the agent expects its projected token and first roots (its flag defaults). */
const TOKEN_DIR = '/var/run/secrets/weft/tokens';
const ROOT_CA_DIR = '/var/run/secrets/weft/root-ca';
/** The ports a sidecar pod answers itself, never captured: Envoy's status and admin ports, the agent's relay. */
export const UNCAPTURED_INBOUND_PORTS = [STATUS_PORT, ADMIN_PORT, XDS_ADDRESS.port];

export interface InjectionOptions {
  /** Envoy's image (pinned by the operator's --proxy-image). */
  proxyImage: string;
  /** Weft's image: the agent and the capture init container. */
  agentImage: string;
}

export interface Injected {
  pod: Pod;
  /** What was added, recorded in STATUS_ANNOTATION. */
  status: { template: Template; initContainers: string[]; containers: string[]; volumes: string[] };
}

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const dropAll = { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };

function agentContainer(options: InjectionOptions, uid: number): Container {
  return {
    name: AGENT_CONTAINER,
    image: options.agentImage,
    imagePullPolicy: 'IfNotPresent',
    args: ['agent', `--xds-address=${XDS_ADDRESS.host}:${XDS_ADDRESS.port}`],
    env: [fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_IP', 'status.podIP')],
    securityContext: { ...dropAll, runAsUser: uid, runAsGroup: uid, runAsNonRoot: true },
    resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { cpu: '500m', memory: '192Mi' } },
    volumeMounts: [
      { name: ROOT_CA_VOLUME, mountPath: ROOT_CA_DIR, readOnly: true },
      { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
      { name: AGENT_FILES_VOLUME, mountPath: AGENT_CREDENTIALS_DIR },
    ],
  };
}

function volumes(): Volume[] {
  return [
    { name: AGENT_FILES_VOLUME, emptyDir: { medium: 'Memory' } },
    { name: ROOT_CA_VOLUME, configMap: { name: TRUST_BUNDLE_CONFIGMAP } },
    { name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: 'weft-ca', expirationSeconds: 3600, path: 'weft-ca' } }] } },
  ];
}

/**
 * A sidecar's Envoy bootstrap: Kubernetes expands $(POD_IP), $(POD_NAME) and $(POD_NAMESPACE) in the args. ADS on
 * delta xDS: pushes carry only what changed, and the outbound routes come by VHDS.
 */
export function sidecarBootstrap(): Record<string, unknown> {
  return proxyBootstrap(
    {
      id: 'sidecar~$(POD_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local',
      cluster: '$(POD_NAMESPACE)',
      metadata: { 'weft.dev/proxy': 'sidecar' },
    },
    XDS_ADDRESS,
    'DELTA_GRPC',
  );
}

function sidecar(pod: Pod, options: InjectionOptions): Injected {
  const capture: Container = {
    name: CAPTURE_CONTAINER,
    image: options.agentImage,
    imagePullPolicy: 'IfNotPresent',
    args: ['capture', `--proxy-uid=${PROXY_UID}`, `--exclude-inbound-ports=${UNCAPTURED_INBOUND_PORTS.join(',')}`],
    // iptables in the pod's own network namespace: root with NET_ADMIN/NET_RAW, for the init step only.
    securityContext: { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsUser: 0, runAsNonRoot: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] } },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
  };
  const proxy: Container = {
    name: PROXY_CONTAINER,
    image: options.proxyImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['envoy'],
    args: ['--config-yaml', JSON.stringify(sidecarBootstrap()), '--disable-hot-restart', '--log-level', 'warning'],
    env: [fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_NAMESPACE', 'metadata.namespace'), fieldEnv('POD_IP', 'status.podIP')],
    ports: [{ name: 'weft-status', containerPort: STATUS_PORT }],
    readinessProbe: { httpGet: { path: READINESS_PATH, port: STATUS_PORT }, periodSeconds: 5 },
    securityContext: { ...dropAll, runAsUser: PROXY_UID, runAsGroup: PROXY_UID, runAsNonRoot: true },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } },
    // The agent's certificate files: Envoy reads them through the `default`/`ROOTCA` SDS secrets (paths only).
    volumeMounts: [{ name: AGENT_FILES_VOLUME, mountPath: AGENT_CREDENTIALS_DIR, readOnly: true }],
  };
  const added = { initContainers: [capture], containers: [proxy, agentContainer(options, PROXY_UID)], volumes: volumes() };
  return withAdded(pod, 'sidecar', added);
}

function grpc(pod: Pod, options: InjectionOptions): Injected {
  // The app reads the certificate files the agent writes (mode 0600): the agent runs as the app's user.
  const uid = pod.spec?.containers?.[0]?.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser ?? PROXY_UID;
  const added = { initContainers: [], containers: [agentContainer(options, uid)], volumes: volumes() };
  const injected = withAdded(pod, 'grpc', added);
  injected.pod.spec!.containers = injected.pod.spec!.containers.map((c) => {
    if (c.name === AGENT_CONTAINER) return c;
    const env = c.env ?? [];
    return {
      ...c,
      env: env.some((e) => e.name === 'GRPC_XDS_BOOTSTRAP') ? env : [...env, { name: 'GRPC_XDS_BOOTSTRAP', value: `${AGENT_CREDENTIALS_DIR}/bootstrap.json` }],
      volumeMounts: [...(c.volumeMounts ?? []), { name: AGENT_FILES_VOLUME, mountPath: AGENT_CREDENTIALS_DIR, readOnly: true }],
    };
  });
  return injected;
}

function withAdded(pod: Pod, template: Template, added: { initContainers: Container[]; containers: Container[]; volumes: Volume[] }): Injected {
  const spec = pod.spec!;
  const status = {
    template,
    initContainers: added.initContainers.map((c) => c.name),
    containers: added.containers.map((c) => c.name),
    volumes: added.volumes.map((v) => v.name),
  };
  const out: Pod = {
    ...pod,
    metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, [STATUS_ANNOTATION]: JSON.stringify(status) } },
    spec: {
      ...spec,
      // Capture first, before any user init container opens a connection.
      ...(added.initContainers.length > 0 ? { initContainers: [...added.initContainers, ...(spec.initContainers ?? [])] } : {}),
      containers: [...spec.containers, ...added.containers],
      volumes: [...(spec.volumes ?? []), ...added.volumes],
    },
  };
  return { pod: out, status };
}

/** The Pod with `template` injected. */
export function inject(pod: Pod, template: Template, options: InjectionOptions): Injected {
  return template === 'grpc' ? grpc(pod, options) : sidecar(pod, options);
}
