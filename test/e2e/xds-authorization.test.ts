// Who gets which config on the operator's authenticated xDS port, with real TLS and real ServiceAccount tokens
// (each through its own `weft agent` relay): a token of namespace x never gets a proxy of namespace y; a gateway's
// config (its TLS keys) is refused before the Gateway exists and to any ServiceAccount but its own, and an open
// gateway stream is closed when the Gateway's ServiceAccount changes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newRoot } from '../../src/ca/transitions.js';
import { DEFAULT_CA_CONFIG } from '../../src/ca/index.js';
import { TypeUrl } from '../../src/xds/protos.js';
import { AdsTestClient } from '../../src/xds/testing/ads-client.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, startLeader, type RunningOperator } from './operator.js';
import { caPortOf, createServiceAccount, serviceAccountToken, startAgent, type AgentRun } from './workloads.js';
import { GatewayProxy } from './xds/gateway-proxy.js';
import { apply, type Obj } from './xds/mesh.js';

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
let x: { name: string; remove: () => Promise<void> };
let y: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
const agents: AgentRun[] = [];
const closers: Array<() => void> = [];

/** A `weft agent` for `namespace/sa`; resolves with its xDS relay's address (TLS and the token upstream). */
async function relayFor(namespace: string, sa: string): Promise<string> {
  const roots = await eventually('the trust bundle', async () => (await core.readNamespacedConfigMap({ namespace, name: 'weft-root-ca' }).catch(() => undefined))?.data?.['root-cert.pem'], 60_000);
  const agent = startAgent({ caPort: await caPortOf(operator), token: await serviceAccountToken(kc, namespace, sa), rootsPem: roots, extraArgs: [`--pod-name=${sa}-0`] });
  agents.push(agent);
  return eventually(`the ${sa} agent's xDS relay`, async () => {
    const bootstrap = await readFile(join(agent.dir, 'bootstrap.json'), 'utf8').catch(() => undefined);
    return bootstrap ? (JSON.parse(bootstrap) as { xds_servers: Array<{ server_uri: string }> }).xds_servers[0]!.server_uri : undefined;
  }, 60_000);
}

function gateway(name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): Obj {
  return { kind: 'Gateway', metadata: { name, ...(annotations ? { annotations } : {}) } as Obj['metadata'], spec };
}

const httpsServer = (host: string, credentialName: string) => ({ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: [host], tls: { mode: 'SIMPLE', credentialName } });

beforeAll(async () => {
  installManifests();
  x = await throwawayNamespace(kc, 'authz-x');
  y = await throwawayNamespace(kc, 'authz-y');
  for (const sa of ['a', 'edge-proxy', 'someone-else']) await createServiceAccount(kc, x.name, sa);
  operator = await startLeader(kc, 'authz-operator', [`--xds-port=${await freePort()}`]);
  const cert = await newRoot(DEFAULT_CA_CONFIG, Date.now());
  await core.createNamespacedSecret({
    namespace: x.name,
    body: { metadata: { name: 'edge-cert' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') } },
  });
}, 180_000);

afterAll(async () => {
  for (const close of closers) close();
  for (const a of agents) await a.stop();
  await operator?.stop();
  await x?.remove();
  await y?.remove();
});

describe('authorization per identity on the authenticated xDS port', () => {
  it("refuses a proxy of another namespace to a token of namespace x, and serves x's own", async () => {
    const relay = await relayFor(x.name, 'a');
    const client = new AdsTestClient(relay);
    closers.push(() => client.close());
    const ask = async (nodeId: string) => {
      const stream = client.sotw();
      try {
        // As an Envoy sidecar asks: every listener (wildcard), so an allowed stream is always answered.
        stream.send({ node: { id: nodeId, locality: { zone: 'e2e' } }, type_url: TypeUrl.listener });
        return await stream.next(15_000);
      } finally {
        stream.close();
      }
    };
    const foreign = `sidecar~127.0.0.71~p-0.${y.name}~${y.name}.svc.cluster.local`;
    await expect(ask(foreign)).rejects.toMatchObject({ code: 7, details: expect.stringContaining(`it is in namespace ${y.name}, not ${x.name}`) });
    expect((await ask(`sidecar~127.0.0.71~p-0.${x.name}~${x.name}.svc.cluster.local`)).type_url).toBe(TypeUrl.listener);
  });

  it("refuses a gateway's config before the Gateway exists and to another ServiceAccount; its own gets its keys", async () => {
    const nodeId = `router~${x.name}~edge~edge-0`;
    // The Gateway's own ServiceAccount exists before the Gateway does (a bring-your-own deployment, say).
    await createServiceAccount(kc, x.name, 'edge');
    const early = GatewayProxy.connect(await relayFor(x.name, 'edge'), nodeId);
    closers.push(() => early.close());
    const refused = await eventually('the stream opened before the Gateway to be refused', async () => early.ended(), 30_000);
    expect(refused).toMatchObject({ code: 7, details: expect.stringContaining(`gateway ${x.name}/edge: no such Gateway`) });
    expect(early.config().secrets.size).toBe(0);

    apply(x.name, gateway('edge', { selector: { app: 'edge' }, servers: [httpsServer('edge.example.com', 'edge-cert')], deployment: { replicas: 1, serviceType: 'ClusterIP' } }));
    const stranger = GatewayProxy.connect(await relayFor(x.name, 'a'), nodeId);
    closers.push(() => stranger.close());
    const denied = await eventually('another ServiceAccount to be refused', async () => stranger.ended(), 30_000);
    expect(denied).toMatchObject({ code: 7, details: expect.stringContaining('only its ServiceAccount edge may') });
    expect(stranger.config().secrets.size).toBe(0);

    const own = GatewayProxy.connect(await relayFor(x.name, 'edge'), nodeId);
    closers.push(() => own.close());
    const secret = await eventually("the gateway's certificate at its own proxy", async () => own.config().secrets.get(`kubernetes://${x.name}/edge-cert`), 60_000);
    expect(secret.privateKey).toContain('PRIVATE KEY');
  });

  it("closes an open gateway stream when the Gateway's ServiceAccount changes", async () => {
    apply(x.name, gateway('byo', { selector: { app: 'byo' }, servers: [httpsServer('byo.example.com', 'edge-cert')] }, { 'gateway.weft.dev/service-account': 'edge-proxy' }));
    const proxy = GatewayProxy.connect(await relayFor(x.name, 'edge-proxy'), `router~${x.name}~byo~byo-0`);
    closers.push(() => proxy.close());
    await eventually('the bring-your-own gateway to get its listeners', async () => (proxy.config().listeners.size > 0 ? true : undefined), 60_000);
    expect(proxy.ended()).toBeUndefined();

    apply(x.name, gateway('byo', { selector: { app: 'byo' }, servers: [httpsServer('byo.example.com', 'edge-cert')] }, { 'gateway.weft.dev/service-account': 'someone-else' }));
    const closed = await eventually('the open stream to be closed', async () => proxy.ended(), 30_000);
    expect(closed).toMatchObject({ code: 7, details: expect.stringContaining('only its ServiceAccount someone-else may') });
  });
});
