// Sidecar injection through the real API server: the MutatingWebhookConfiguration from manifests/ (pointed at the
// operator on this host: no Service here reaches a host process), the operator's webhook with its CA-issued serving
// certificate and the caBundle it keeps. Deployments in a namespace labelled for injection: the Pods the API server
// stores carry the sidecar template, the grpc template (by annotation), or nothing (opted out); bad annotations
// are refused naming them; re-admission does not inject twice; after the CA rotates its root and the webhook's
// certificate, Pods are still admitted and injected; while no operator answers, Pods of injected namespaces wait.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { checkMessage } from '../../src/xds/proto-check.js';
import { envoyRootWithOptions } from '../../src/xds/protos.js';
import type { ProtoMessage } from '../../src/xds/resource.js';
import { bootstrapObjectForm } from '../../src/xds/testing/bootstrap-form.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, operatorKubeconfig, startLeader, startOperator, type RunningOperator } from './operator.js';
import { apply, type Obj } from './xds/mesh.js';

type Json = Record<string, any>;
const WEBHOOK = 'weft-sidecar-injector';
const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let webhookPort: number;
let original: Json;

const caBundle = () => kubectl('get', 'mutatingwebhookconfiguration', WEBHOOK, '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}').trim();

function deployment(name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): Obj {
  const selector = { app: 'reviews', version: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `reviews-${name}` },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: { metadata: { labels: { ...selector, ...labels }, annotations }, spec: { containers: [{ name: 'reviews', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  };
}

function podsOf(version: string): Json[] {
  return (JSON.parse(kubectl('get', 'pods', '-n', ns.name, '-l', `version=${version}`, '-o', 'json')) as { items: Json[] }).items;
}

const names = (list: Json[] | undefined) => (list ?? []).map((c) => c.name as string);

/** The fingerprint of the certificate the webhook presents now. */
function servingFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: webhookPort, servername: 'weft-operator.weft-system.svc', rejectUnauthorized: false }, () => {
      const fingerprint = new X509Certificate(socket.getPeerX509Certificate()!.raw).fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

beforeAll(async () => {
  installManifests();
  original = JSON.parse(kubectl('get', 'mutatingwebhookconfiguration', WEBHOOK, '-o', 'json')) as Json;
  ns = await throwawayNamespace(kc, 'inject');
  kubectl('label', 'namespace', ns.name, 'weft.dev/inject=enabled');
  webhookPort = await freePort();
  // A fresh CA with short lifetimes, so its root and the webhook's certificate rotate during the test.
  kubectl('delete', 'secret', 'weft-ca', '-n', 'weft-system', '--ignore-not-found');
  operator = await startLeader(kc, 'inject-operator', [
    `--webhook-port=${webhookPort}`, '--webhook-host=127.0.0.1', '--tls-san=127.0.0.1',
    '--ca-root-ttl=60s', '--ca-intermediate-ttl=30s', '--ca-workload-ttl=10s', '--ca-max-workload-ttl=10s',
  ]);
  // The API server cannot reach a Service backed by a host process here: call the operator's port directly.
  kubectl('patch', 'mutatingwebhookconfiguration', WEBHOOK, '--type=json', '-p', JSON.stringify([
    { op: 'remove', path: '/webhooks/0/clientConfig/service' },
    { op: 'add', path: '/webhooks/0/clientConfig/url', value: `https://127.0.0.1:${webhookPort}/inject` },
  ]));
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  // Back as manifests/ has it (a later `kubectl apply -f manifests/` must find what it applied).
  kubectl('patch', 'mutatingwebhookconfiguration', WEBHOOK, '--type=json', '-p', JSON.stringify([
    { op: 'remove', path: '/webhooks/0/clientConfig/url' },
    { op: 'add', path: '/webhooks/0/clientConfig/service', value: original.webhooks[0].clientConfig.service },
  ]));
  await ns?.remove();
  kubectl('delete', 'secret', 'weft-ca', '-n', 'weft-system', '--ignore-not-found');
});

describe('sidecar injection', () => {
  it('injects the sidecar or grpc template into the Pods of an injected namespace, and leaves opted-out Pods alone', async () => {
    await eventually('the operator to set the webhook caBundle', async () => (caBundle() !== '' ? true : undefined), 60_000);
    apply(ns.name, deployment('v1'), deployment('v2', { 'sidecar.weft.dev/template': 'grpc' }), deployment('v3', {}, { 'sidecar.weft.dev/inject': 'false' }));
    const [v1, v2, v3] = await eventually('the Pods of the three Deployments', async () => {
      const pods = ['v1', 'v2', 'v3'].map((v) => podsOf(v));
      return pods.every((p) => p.length === 1) ? pods.map((p) => p[0]!) : undefined;
    }, 60_000);

    expect(names(v1!.spec.initContainers)).toEqual(['weft-capture']);
    expect(names(v1!.spec.containers)).toEqual(['reviews', 'weft-proxy', 'weft-agent']);
    expect(JSON.parse(v1!.metadata.annotations['sidecar.weft.dev/status'])).toMatchObject({ template: 'sidecar' });
    // The Envoy bootstrap, as the API server stored it, is valid Envoy v3 config.
    envoyRootWithOptions().loadSync(['envoy/config/bootstrap/v3/bootstrap.proto', 'envoy/extensions/filters/http/health_check/v3/health_check.proto'], { keepCase: true });
    const proxy = (v1!.spec.containers as Json[]).find((c) => c.name === 'weft-proxy')!;
    const bootstrap = JSON.parse(proxy.args[proxy.args.indexOf('--config-yaml') + 1]) as Json;
    expect(bootstrap.node.id).toBe('sidecar~$(POD_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local');
    expect(checkMessage('envoy.config.bootstrap.v3.Bootstrap', bootstrapObjectForm(bootstrap) as ProtoMessage)).toEqual([]);

    expect(names(v2!.spec.initContainers)).toEqual([]);
    expect(names(v2!.spec.containers)).toEqual(['reviews', 'weft-agent']);
    expect((v2!.spec.containers as Json[])[0]!.env).toEqual([{ name: 'GRPC_XDS_BOOTSTRAP', value: '/var/run/weft/bootstrap.json' }]);

    expect(names(v3!.spec.containers)).toEqual(['reviews']);
    expect(v3!.metadata.annotations?.['sidecar.weft.dev/status']).toBeUndefined();
  });

  it("injects Deployments ported from Istio by their Istio keys: grpc-agent is proxyless, sidecar.istio.io/inject false opts out", async () => {
    await eventually('the operator to set the webhook caBundle', async () => (caBundle() !== '' ? true : undefined), 60_000);
    apply(ns.name, deployment('istio-grpc', { 'inject.istio.io/templates': 'grpc-agent' }), deployment('istio-out', {}, { 'sidecar.istio.io/inject': 'false' }));
    const [grpc, out] = await eventually('the Pods of the two Deployments', async () => {
      const pods = ['istio-grpc', 'istio-out'].map((v) => podsOf(v));
      return pods.every((p) => p.length === 1) ? pods.map((p) => p[0]!) : undefined;
    }, 60_000);
    expect(names(grpc!.spec.containers)).toEqual(['reviews', 'weft-agent']);
    expect(JSON.parse(grpc!.metadata.annotations['sidecar.weft.dev/status'])).toMatchObject({ template: 'grpc' });
    expect(names(out!.spec.containers)).toEqual(['reviews']);
  });

  it('refuses an unknown template naming the annotation, and does not inject an injected Pod again', async () => {
    const bad = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad', namespace: ns.name, annotations: { 'sidecar.weft.dev/template': 'envoy' } }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] } };
    let refusal = '';
    try {
      apply(ns.name, bad as Obj);
    } catch (err) {
      refusal = String((err as { stderr?: Buffer }).stderr ?? err);
    }
    expect(refusal).toContain('admission webhook "sidecar.weft.dev" denied the request');
    expect(refusal).toContain('metadata.annotations[sidecar.weft.dev/template]: unknown template "envoy"');

    // A Pod made from an injected one (its status annotation and containers) is admitted as it is.
    const injected = podsOf('v1')[0]!;
    const copy = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'copy', namespace: ns.name, labels: { app: 'copy' }, annotations: injected.metadata.annotations },
      spec: { initContainers: injected.spec.initContainers, containers: injected.spec.containers, volumes: injected.spec.volumes },
    };
    apply(ns.name, copy as Obj);
    const stored = JSON.parse(kubectl('get', 'pod', 'copy', '-n', ns.name, '-o', 'json')) as Json;
    expect(names(stored.spec.containers)).toEqual(['reviews', 'weft-proxy', 'weft-agent']);
    expect(names(stored.spec.initContainers)).toEqual(['weft-capture']);
  });

  it('still admits and injects after the CA rotated its root and the webhook\'s certificate', async () => {
    const bundle = caBundle();
    const fingerprint = await servingFingerprint();
    await eventually('a new root in the caBundle and a new webhook certificate', async () => {
      return caBundle() !== bundle && (await servingFingerprint()) !== fingerprint ? true : undefined;
    }, 180_000, 1000);
    apply(ns.name, deployment('v4'));
    const pod = await eventually('the Pod made after the rotation', async () => podsOf('v4')[0], 60_000);
    expect(names(pod.spec.containers)).toEqual(['reviews', 'weft-proxy', 'weft-agent']);
  }, 240_000);

  it('refuses Pods in injected namespaces while no operator answers (failurePolicy Fail), never others; they come once it is back', async () => {
    await operator.stop();
    const pod = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] } }) as Obj;
    let refusal = '';
    try {
      apply(ns.name, pod('while-down', ns.name));
    } catch (err) {
      refusal = String((err as { stderr?: Buffer }).stderr ?? err);
    }
    expect(refusal).toContain('failed calling webhook "sidecar.weft.dev"');
    // A namespace that did not opt in never calls the webhook.
    const plain = await throwawayNamespace(kc, 'not-injected');
    try {
      apply(plain.name, pod('unmeshed', plain.name));
      expect(names((JSON.parse(kubectl('get', 'pod', 'unmeshed', '-n', plain.name, '-o', 'json')) as Json).spec.containers)).toEqual(['app']);
    } finally {
      await plain.remove();
    }
    // A Deployment scaled up meanwhile gets its Pod once a replica answers again (the ReplicaSet retries).
    kubectl('scale', 'deployment', 'reviews-v1', '-n', ns.name, '--replicas=2');
    operator = await startOperator(await operatorKubeconfig(kc), 'inject-operator-2', [`--webhook-port=${webhookPort}`, '--webhook-host=127.0.0.1', '--tls-san=127.0.0.1']);
    const pods = await eventually('the second reviews-v1 Pod, injected', async () => {
      const list = podsOf('v1');
      return list.length === 2 ? list : undefined;
    }, 120_000, 1000);
    for (const p of pods) expect(names(p.spec.containers)).toEqual(['reviews', 'weft-proxy', 'weft-agent']);
  }, 240_000);
});
