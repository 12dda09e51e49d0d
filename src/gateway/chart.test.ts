// The generated objects, as the API server will receive them: names, selectors, owner references, the pod's
// security and resources, and every cdk8s-plus default Weft overrides.
import { describe, expect, it } from '@jest/globals';
import type { Gateway, GatewaySpec } from '../api/index.js';
import { parseGatewayNodeId } from './bootstrap.js';
import { DEFAULT_RESOURCES, podSpecHash, renderGateway } from './chart.js';
import { GENERATED_HASH_ANNOTATION, SPEC_HASH_ANNOTATION } from './names.js';
import type { GeneratedKind } from './resources.js';

type Json = Record<string, any>; // plain JSON, read freely in assertions

function gatewayFixture(spec: Partial<GatewaySpec> = {}, name = 'edge'): Gateway {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Gateway',
    metadata: { name, namespace: 'shop', uid: 'uid-1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      selector: { app: 'edge' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*.example.com'] }],
      deployment: {},
      ...spec,
    },
  };
}

function render(spec: Partial<GatewaySpec> = {}): Map<GeneratedKind, Json> {
  return new Map(renderGateway(gatewayFixture(spec)).map((o) => [o.kind, o.object as Json]));
}

describe('renderGateway', () => {
  it('makes a ServiceAccount, Deployment and Service, in apply order, named after the Gateway and owned by it', () => {
    const objects = renderGateway(gatewayFixture());
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'Deployment', 'Service']);
    for (const { object } of objects) {
      expect(object.metadata).toMatchObject({
        name: 'edge',
        namespace: 'shop',
        labels: { app: 'edge', 'app.kubernetes.io/managed-by': 'weft-operator', 'weft.dev/gateway-name': 'edge' },
        ownerReferences: [{ apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', name: 'edge', uid: 'uid-1', controller: true, blockOwnerDeletion: true }],
      });
      expect(object.metadata.annotations![GENERATED_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('adds a PodDisruptionBudget and a HorizontalPodAutoscaler only when the spec asks', () => {
    expect([...render({ deployment: { podDisruptionBudget: { minAvailable: '50%' }, autoscaling: { minReplicas: 2, maxReplicas: 4 } } }).keys()]).toEqual([
      'ServiceAccount',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'HorizontalPodAutoscaler',
    ]);
    const objects = render({ deployment: { podDisruptionBudget: { minAvailable: 1 }, autoscaling: { minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } } });
    expect(objects.get('PodDisruptionBudget')!.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { app: 'edge' } } });
    expect(render({ deployment: { podDisruptionBudget: { minAvailable: '50%' } } }).get('PodDisruptionBudget')!.spec.minAvailable).toBe('50%');
    const hpa = objects.get('HorizontalPodAutoscaler')!.spec;
    expect(hpa).toEqual({
      minReplicas: 2,
      maxReplicas: 4,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'edge' },
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    // The HPA owns the replica count.
    expect(objects.get('Deployment')!.spec.replicas).toBeUndefined();
  });

  it('selects pods by the Gateway selector alone, never by labels that depend on the code', () => {
    const deployment = render().get('Deployment')!;
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'edge' } });
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'edge', 'app.kubernetes.io/managed-by': 'weft-operator', 'weft.dev/gateway-name': 'edge' });
    expect(render().get('Service')!.spec.selector).toEqual({ app: 'edge' });
  });

  it('runs Envoy as uid 101 on a read-only root filesystem without privileges, capabilities or a token', () => {
    const pod = render().get('Deployment')!.spec.template.spec;
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 101,
      runAsGroup: 101,
      seccompProfile: { type: 'RuntimeDefault' },
      sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('edge');
    expect(pod.hostNetwork).toBeUndefined();
    const [envoy] = pod.containers;
    expect(envoy.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 101,
      runAsGroup: 101,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    // The agent's certificate files, read-only: Envoy's mTLS to the mesh (the `default`/`ROOTCA` SDS secrets name them).
    expect(envoy.volumeMounts).toEqual([{ mountPath: '/tmp', name: 'tmp' }, { mountPath: '/var/run/weft', name: 'weft-agent', readOnly: true }]);
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: {} });
  });

  it('runs a weft agent beside Envoy: its xDS relay, with a projected token for the CA audience only', () => {
    const pod = render().get('Deployment')!.spec.template.spec;
    const agent = pod.containers[1];
    expect(agent).toMatchObject({
      name: 'weft-agent',
      image: 'ghcr.io/weft-mesh/weft:0.1.0',
      imagePullPolicy: 'IfNotPresent',
      args: ['agent', '--xds-address=127.0.0.1:15010'],
      resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { cpu: '500m', memory: '192Mi' } },
      // Envoy's uid: Envoy reads the key (0600) the agent writes.
      securityContext: { runAsNonRoot: true, runAsUser: 101, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    expect(agent.env.map((e: Json) => e.name)).toEqual(['POD_NAME', 'POD_IP']);
    expect(agent.volumeMounts).toEqual([
      { mountPath: '/var/run/secrets/weft/root-ca', name: 'weft-root-ca', readOnly: true },
      { mountPath: '/var/run/weft', name: 'weft-agent' },
      { mountPath: '/var/run/secrets/weft/tokens', name: 'weft-token', readOnly: true },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'weft-agent', emptyDir: {} },
      { name: 'weft-root-ca', configMap: { name: 'weft-root-ca' } },
      { name: 'weft-token', projected: { sources: [{ serviceAccountToken: { audience: 'weft-ca', expirationSeconds: 3600, path: 'weft-ca' } }] } },
    ]);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('takes resources from the spec verbatim, or Envoy-sized defaults instead of cdk8s-plus’s', () => {
    const container = (spec: Partial<GatewaySpec>) => render(spec).get('Deployment')!.spec.template.spec.containers[0];
    expect(container({}).resources).toEqual(DEFAULT_RESOURCES);
    expect(container({ deployment: { resources: { requests: { cpu: 0.5, 'ephemeral-storage': '1Gi' } } } }).resources).toEqual({
      requests: { cpu: 0.5, 'ephemeral-storage': '1Gi' },
    });
  });

  it('has 1 replica by default, the spec’s otherwise, and rolls out without taking serving pods away', () => {
    expect(render().get('Deployment')!.spec.replicas).toBe(1);
    expect(render({ deployment: { replicas: 3 } }).get('Deployment')!.spec.replicas).toBe(3);
    expect(render().get('Deployment')!.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    expect(render().get('Deployment')!.spec.minReadySeconds).toBeUndefined();
  });

  it('exposes one Service port per server port number, on the target port, with the type from the spec', () => {
    const servers: GatewaySpec['servers'] = [
      { port: { number: 443, name: 'https-a', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'a' } },
      { port: { number: 443, name: 'https-b', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'b' } },
      { port: { number: 80, name: 'web', protocol: 'HTTP', targetPort: 8080 }, hosts: ['*'] },
    ];
    const objects = render({ servers });
    expect(objects.get('Service')!.spec).toEqual({
      type: 'LoadBalancer',
      selector: { app: 'edge' },
      ports: [
        { name: 'https-443', port: 443, targetPort: 443, protocol: 'TCP' },
        { name: 'http-80', port: 80, targetPort: 8080, protocol: 'TCP' },
      ],
    });
    const ports = objects.get('Deployment')!.spec.template.spec.containers[0].ports;
    expect(ports).toEqual([{ containerPort: 443 }, { containerPort: 8080 }, { containerPort: 15021, name: 'status-port' }]);
    expect(render({ deployment: { serviceType: 'ClusterIP' } }).get('Service')!.spec.type).toBe('ClusterIP');
    expect(render({ deployment: { serviceType: 'NodePort' } }).get('Service')!.spec.type).toBe('NodePort');
  });

  it('boots Envoy with ADS from the agent on loopback and a node id naming this gateway', () => {
    const [envoy] = render().get('Deployment')!.spec.template.spec.containers;
    expect(envoy.command).toEqual(['envoy']);
    const bootstrap = JSON.parse(envoy.args[envoy.args.indexOf('--config-yaml') + 1]) as Json;
    expect(bootstrap.node).toEqual({ id: 'router~shop~edge~$(POD_NAME)', cluster: 'edge.shop', metadata: { 'weft.dev/gateway': 'shop/edge' } });
    expect(bootstrap.dynamic_resources.ads_config.grpc_services).toEqual([{ envoy_grpc: { cluster_name: 'weft-xds', authority: 'weft-operator.weft-system.svc' } }]);
    expect(bootstrap.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address).toEqual({
      socket_address: { address: '127.0.0.1', port_value: 15010 },
    });
    expect(bootstrap.static_resources.clusters[0].type).toBe('STATIC');
    expect(envoy.env.map((e: Json) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE']);
    expect(envoy.readinessProbe.httpGet).toMatchObject({ path: '/healthz/ready', port: 15021 });
  });

  it('changes the pod template hash when the spec changes, but not for scaling or Service settings', () => {
    const base = gatewayFixture().spec;
    const hash = podSpecHash(base);
    expect(podSpecHash({ ...base, servers: [{ ...base.servers[0]!, hosts: ['other.example.com'] }] })).not.toBe(hash);
    expect(podSpecHash({ ...base, deployment: { resources: { requests: { cpu: '1' } } } })).not.toBe(hash);
    expect(podSpecHash({ ...base, deployment: { replicas: 5, serviceType: 'ClusterIP', podDisruptionBudget: { minAvailable: 1 } } })).toBe(hash);
    expect(podSpecHash({ ...base, deployment: { autoscaling: { minReplicas: 1, maxReplicas: 2 } } })).toBe(hash);
    expect(render().get('Deployment')!.spec.template.metadata.annotations[SPEC_HASH_ANNOTATION]).toBe(hash);
  });

  it('is deterministic: the same Gateway renders the same bytes', () => {
    expect(JSON.stringify(renderGateway(gatewayFixture()))).toBe(JSON.stringify(renderGateway(gatewayFixture())));
  });
});

describe('gateway node ids', () => {
  it('round-trip, and other proxies’ ids are not gateways', () => {
    expect(parseGatewayNodeId('router~shop~edge~edge-7d9f-abcde')).toEqual({ namespace: 'shop', gateway: 'edge', pod: 'edge-7d9f-abcde' });
    expect(parseGatewayNodeId('sidecar~10.0.0.1~pod.shop~shop.svc.cluster.local')).toBeUndefined();
    expect(parseGatewayNodeId('router~shop~edge')).toBeUndefined();
  });
});
