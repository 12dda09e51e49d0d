// Sidecar injection's decisions and what each template adds, on plain Pods; the Envoy bootstrap is checked against
// Envoy's own protos.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { checkMessage } from '../xds/proto-check.js';
import { envoyRootWithOptions } from '../xds/protos.js';
import type { ProtoMessage } from '../xds/resource.js';
import { bootstrapObjectForm } from '../xds/testing/bootstrap-form.js';
import { review, type AdmissionRequest } from './admission.js';
import { captureRules } from './capture.js';
import { STATUS_ANNOTATION, TEMPLATE_ANNOTATION } from './names.js';
import { sidecarBootstrap, type Pod } from './template.js';

const options = { proxyImage: 'envoyproxy/envoy:v1.36.2', agentImage: 'ghcr.io/weft-mesh/weft:0.1.0' };
const app = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'reviews-v1-', namespace: 'shop', labels: { app: 'reviews', ...labels }, annotations },
  spec: { containers: [{ name: 'reviews', image: 'reviews:1', ports: [{ containerPort: 9080 }] }], volumes: [{ name: 'data', emptyDir: {} }] },
});
const request = (pod: Pod, namespace = 'shop'): AdmissionRequest => ({ uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace, object: pod });
type Op = { op: string; path: string; value: any };
const patchOf = (pod: Pod, namespace?: string): Op[] | undefined => {
  const response = review(request(pod, namespace), options);
  return response.patch ? (JSON.parse(Buffer.from(response.patch, 'base64').toString()) as Op[]) : undefined;
};
const valueAt = (patch: Op[], path: string) => patch.find((p) => p.path === path)?.value;

describe('the sidecar template', () => {
  it('adds capture, Envoy and the agent, and keeps the user\'s containers and volumes as they were', () => {
    const patch = patchOf(app())!;
    const containers = valueAt(patch, '/spec/containers') as Array<{ name: string; image: string; args?: string[] }>;
    expect(containers.map((c) => c.name)).toEqual(['reviews', 'weft-proxy', 'weft-agent']);
    expect(containers[0]).toEqual(app().spec!.containers[0]);
    expect(containers[1]!.image).toBe(options.proxyImage);
    expect((valueAt(patch, '/spec/initContainers') as Array<{ name: string; args: string[] }>).map((c) => [c.name, c.args[0]])).toEqual([['weft-capture', 'capture']]);
    expect((valueAt(patch, '/spec/volumes') as Array<{ name: string }>).map((v) => v.name)).toEqual(['data', 'weft-agent-files', 'weft-root-ca', 'weft-token']);
    expect(JSON.parse(valueAt(patch, '/metadata/annotations')[STATUS_ANNOTATION])).toEqual({
      template: 'sidecar',
      initContainers: ['weft-capture'],
      containers: ['weft-proxy', 'weft-agent'],
      volumes: ['weft-agent-files', 'weft-root-ca', 'weft-token'],
    });
  });

  it('runs Envoy with a bootstrap that decodes as Envoy v3 and names the sidecar by its pod', () => {
    envoyRootWithOptions().loadSync(['envoy/config/bootstrap/v3/bootstrap.proto', 'envoy/extensions/filters/http/health_check/v3/health_check.proto'], { keepCase: true });
    const bootstrap = sidecarBootstrap() as {
      node: { id: string };
      admin: { address: { socket_address: { address: string } } };
      dynamic_resources: { ads_config: { api_type: string } };
    };
    expect(bootstrap.dynamic_resources.ads_config.api_type).toBe('DELTA_GRPC'); // VHDS needs delta xDS
    expect(bootstrap.node.id).toBe('sidecar~$(POD_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local');
    expect(bootstrap.admin.address.socket_address.address).toBe('127.0.0.1');
    const patch = patchOf(app())!;
    const proxy = (valueAt(patch, '/spec/containers') as Array<{ name: string; args: string[] }>).find((c) => c.name === 'weft-proxy')!;
    expect(JSON.parse(proxy.args[1]!)).toEqual(bootstrap);
    // Envoy reads --config-yaml with the proto3 JSON mapping; the checker takes protobufjs's object form.
    expect(checkMessage('envoy.config.bootstrap.v3.Bootstrap', bootstrapObjectForm(bootstrap) as ProtoMessage)).toEqual([]);
  });
});

describe('the grpc template', () => {
  it('adds the agent and the bootstrap to the app containers, no Envoy and no capture', () => {
    const patch = patchOf(app({ [TEMPLATE_ANNOTATION]: 'grpc' }))!;
    const containers = valueAt(patch, '/spec/containers') as Array<{ name: string; image: string; env?: Array<{ name: string; value?: string }>; volumeMounts?: Array<{ mountPath: string; readOnly?: boolean }> }>;
    expect(containers.map((c) => c.name)).toEqual(['reviews', 'weft-agent']);
    expect(containers[0]!.image).toBe('reviews:1');
    expect(containers[0]!.env).toEqual([{ name: 'GRPC_XDS_BOOTSTRAP', value: '/var/run/weft/bootstrap.json' }]);
    expect(containers[0]!.volumeMounts).toEqual([{ name: 'weft-agent-files', mountPath: '/var/run/weft', readOnly: true }]);
    expect(valueAt(patch, '/spec/initContainers')).toBeUndefined();
  });
});

describe('admission decisions', () => {
  it('refuses an unknown template naming the annotation, and injects nothing', () => {
    const response = review(request(app({ [TEMPLATE_ANNOTATION]: 'envoy' })), options);
    expect(response).toMatchObject({ allowed: false, status: { code: 400 } });
    expect(response.status!.message).toBe('metadata.annotations[sidecar.weft.dev/template]: unknown template "envoy"; use sidecar or grpc');
    expect(response.patch).toBeUndefined();
  });

  it('leaves opted-out Pods, injected Pods, hostNetwork Pods and the mesh\'s own namespace alone', () => {
    expect(patchOf(app({}, { 'sidecar.weft.dev/inject': 'false' }))).toBeUndefined();
    expect(patchOf(app({ 'sidecar.weft.dev/inject': 'false' }))).toBeUndefined();
    expect(patchOf(app(), 'weft-system')).toBeUndefined();
    expect(patchOf(app(), 'kube-system')).toBeUndefined();
    const host = app();
    host.spec!.hostNetwork = true;
    expect(patchOf(host)).toBeUndefined();
    // Re-admitting what injection produced adds nothing.
    const once = patchOf(app())!;
    const injected: Pod = { ...app(), metadata: { ...app().metadata, annotations: valueAt(once, '/metadata/annotations') }, spec: { ...app().spec!, containers: valueAt(once, '/spec/containers') } };
    expect(patchOf(injected)).toBeUndefined();
  });

  it('warns when a template is asked for on a Pod that opts out', () => {
    const response = review(request(app({ [TEMPLATE_ANNOTATION]: 'grpc' }, { 'sidecar.weft.dev/inject': 'false' })), options);
    expect(response).toMatchObject({ allowed: true, warnings: ['sidecar.weft.dev/template is ignored: sidecar.weft.dev/inject is "false"'] });
  });

  it("reads Istio's annotations on ported Pods: inject.istio.io/templates grpc-agent is proxyless, sidecar.istio.io/inject false opts out", () => {
    const names = (patch: Op[] | undefined) => (valueAt(patch!, '/spec/containers') as Array<{ name: string }>).map((c) => c.name);
    expect(names(patchOf(app({ 'inject.istio.io/templates': 'grpc-agent' })))).toEqual(['reviews', 'weft-agent']);
    expect(names(patchOf(app({ 'inject.istio.io/templates': 'sidecar' })))).toEqual(['reviews', 'weft-proxy', 'weft-agent']);
    // Weft's own annotation wins over Istio's.
    expect(names(patchOf(app({ 'inject.istio.io/templates': 'grpc-agent', [TEMPLATE_ANNOTATION]: 'sidecar' })))).toEqual(['reviews', 'weft-proxy', 'weft-agent']);
    expect(patchOf(app({}, { 'sidecar.istio.io/inject': 'false' }))).toBeUndefined();
    const unknown = review(request(app({ 'inject.istio.io/templates': 'custom' })), options);
    expect(unknown).toMatchObject({ allowed: false, status: { message: 'metadata.annotations[inject.istio.io/templates]: unknown template "custom"; use sidecar, grpc-agent or grpc-simple' } });
    const ignored = review(request(app({ 'inject.istio.io/templates': 'grpc-agent', 'sidecar.istio.io/inject': 'false' })), options);
    expect(ignored.warnings).toEqual(['inject.istio.io/templates is ignored: sidecar.istio.io/inject is "false"']);
  });

  it('admits anything but Pod creation untouched', () => {
    expect(review({ uid: 'u2', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'UPDATE', namespace: 'shop', object: app() }, options)).toEqual({ uid: 'u2', allowed: true });
  });
});

describe('traffic capture', () => {
  it('redirects TCP to 15001 and 15006, lets the proxy\'s own traffic and the excluded ports through', () => {
    const rules = captureRules({ proxyUid: 1337, excludeInboundPorts: [15021, 15000] });
    expect(rules.startsWith('*nat\n')).toBe(true);
    expect(rules.endsWith('COMMIT\n')).toBe(true);
    expect(rules).toContain('-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    expect(rules).toContain('-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006');
    expect(rules).toContain('-A WEFT_INBOUND -p tcp --dport 15021 -j RETURN');
    expect(rules).toContain('-A WEFT_OUTPUT -m owner --uid-owner 1337 -j RETURN');
    // The proxy's exemption comes before the catch-all redirect.
    expect(rules.indexOf('--uid-owner 1337 -j RETURN')).toBeLessThan(rules.indexOf('-A WEFT_OUTPUT -j WEFT_REDIRECT'));
  });
});
