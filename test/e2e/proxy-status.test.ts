// Mesh-wide sync state with two operator replicas (dist/main.js, as the operator's ServiceAccount) and real
// proxyless grpc-js-xds clients on both: `weft proxy-status` lists every proxy with the replica serving it, a raw
// ADS client's NACK shows with its message, the VirtualService's status.proxies counts the clients of both replicas,
// and when one replica is killed its clients reconnect to the other (through a stand-in for the operator's Service)
// and the counts follow. `config-dump` and `describe pod` show what a proxy holds and what applies to its pod.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as dial, createServer, type Server, type Socket } from 'node:net';
import { AdsTestClient, type SotwResponse } from '../../src/xds/testing/ads-client.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, operatorKubeconfig, startOperator, weftCli, type RunningOperator } from './operator.js';
import { startBackend, type Backend } from './xds/backends.js';
import { XdsClient } from './xds/clients.js';
import { apply, destinationRule, kubeService, serviceEntry, statusOf, virtualService, waitForCondition, workloadEntry } from './xds/mesh.js';

const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
const operators: RunningOperator[] = [];
const backends: Backend[] = [];
const clients: XdsClient[] = [];
let ads: AdsTestClient | undefined;
let frontDoor: Server | undefined;

const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';

/** Istio's node id form, which names the pod: `sidecar~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`. */
const nodeId = (pod: string) => `sidecar~127.0.0.1~${pod}.${ns.name}~${ns.name}.svc.cluster.local`;

interface ProxyRow {
  id: string;
  replica: string;
  kind: string;
  namespace?: string;
  pod?: string;
  types: Record<string, { state: string; acked: string; nack?: string; sentAt?: string; ackedAt?: string }>;
}

async function proxyStatus(): Promise<ProxyRow[]> {
  const { stdout, code } = await weftCli('proxy-status', '-o', 'json');
  expect(code).toBe(0);
  return (JSON.parse(stdout) as { proxies: ProxyRow[] }).proxies.filter((p) => p.namespace === ns.name);
}

/**
 * A stand-in for the operator's Service: each new connection goes to the first replica that accepts it. When a
 * replica dies, its clients' reconnects land on the next one.
 */
async function serviceFront(ports: () => number[]): Promise<number> {
  const port = await freePort();
  frontDoor = createServer((downstream: Socket) => {
    const tryPort = (candidates: number[]) => {
      if (candidates.length === 0) return downstream.destroy();
      const upstream = dial(candidates[0]!, '127.0.0.1');
      upstream.once('connect', () => {
        downstream.pipe(upstream).pipe(downstream);
        upstream.on('error', () => downstream.destroy());
        downstream.on('error', () => upstream.destroy());
        upstream.on('close', () => downstream.destroy());
        downstream.on('close', () => upstream.destroy());
      });
      upstream.once('error', () => tryPort(candidates.slice(1)));
    };
    tryPort(ports());
  });
  await new Promise<void>((resolve) => frontDoor!.listen(port, '127.0.0.1', resolve));
  return port;
}

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'proxy-status');
}, 120_000);

afterAll(async () => {
  ads?.close();
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(operators.map((o) => o.stop()));
  await Promise.all(backends.map((b) => b.stop()));
  frontDoor?.close();
  await ns?.remove();
});

describe('mesh-wide sync state across two replicas', () => {
  it('lists every proxy of both replicas, shows a NACK, sums status over replicas, and follows a killed replica', async () => {
    const kubeconfig = await operatorKubeconfig(kc);
    const [xdsA, xdsB] = [await freePort(), await freePort()];
    const a = await startOperator(kubeconfig, 'proxy-status-a', [`--xds-port=${xdsA}`]);
    operators.push(a);
    await eventually('replica a to lead', async () => ((await a.metric('leader_election_master_status')) === 1 ? true : undefined), 60_000);
    const b = await startOperator(kubeconfig, 'proxy-status-b', [`--xds-port=${xdsB}`]);
    operators.push(b);
    const bAlive = () => b.process.exitCode === null && b.process.signalCode === null;
    // Clients of "the Service" reach b while it runs, a afterwards.
    const front = await serviceFront(() => (bAlive() ? [xdsB, xdsA] : [xdsA]));

    const host = `reviews.${ns.name}.svc.cluster.local`;
    const backend = await startBackend('reviews-v1', '127.0.0.71');
    backends.push(backend);
    apply(
      ns.name,
      serviceEntry('reviews', host),
      workloadEntry('reviews-v1', backend, { app: 'reviews', version: 'v1' }, 'default'),
      destinationRule('reviews', host),
      virtualService('reviews', host, [{ route: [{ destination: { host, subset: 'v1' } }] }]),
    );
    await waitForCondition(ns.name, 'VirtualService', 'reviews', 'Programmed', 'True', () => true, 60_000);

    const target = `${host}:9080`;
    const started = async (port: number, pod: string) => {
      const c = await XdsClient.start({ xdsPort: port, target, nodeId: nodeId(pod) });
      clients.push(c);
      await eventually(`${pod}'s RPCs to succeed`, async () => ((await c.run(5, { deadlineMs: 2000 })).every((r) => r.code === 0) ? true : undefined), 60_000, 500);
      return c;
    };
    await started(xdsA, 'client-a');
    await started(front, 'client-b');

    // proxy-status: both clients, each with the replica serving it, every type SYNCED.
    const rows = await eventually('both clients in proxy-status, synced', async () => {
      const r = await proxyStatus();
      const ok = r.length === 2 && r.every((p) => Object.values(p.types).length >= 3 && Object.values(p.types).every((t) => t.state === 'SYNCED'));
      return ok ? r : undefined;
    }, 60_000, 1000);
    expect(rows.map((p) => [p.pod, p.replica, p.kind])).toEqual([
      ['client-a', 'proxy-status-a', 'proxyless'],
      ['client-b', 'proxy-status-b', 'proxyless'],
    ]);
    expect(Object.keys(rows[0]!.types).sort()).toEqual(['cds', 'eds', 'lds', 'rds']);
    expect(rows[0]!.types.lds!.ackedAt).toBeDefined();
    const table = (await weftCli('proxy-status', `${ns.name}/client-b`)).stdout;
    expect(table).toMatch(/^NODE ID\s+POD\s+KIND\s+REPLICA\s+CDS\s+LDS\s+EDS\s+RDS\s+SDS/);
    expect(table).toContain(`${ns.name}/client-b`);
    expect(table).toContain('proxy-status-b');
    expect((await weftCli('proxy-status', 'nobody-here', '-n', ns.name)).code).toBe(1);

    // The leader (a) counts b's client too: status.proxies is 2/2, not the 1/1 of its own.
    await eventually('the VirtualService to count both replicas\' clients', async () => {
      const s = statusOf(ns.name, 'VirtualService', 'reviews').status as { proxies?: { acked: number; expected: number } };
      return s.proxies?.expected === 2 && s.proxies.acked === 2 ? true : undefined;
    }, 60_000, 1000);
    expect(kubectl('get', 'virtualservices.weft.dev', 'reviews', '-n', ns.name, '-o', 'jsonpath={.status.synced}')).toBe('2/2');

    // A proxy on b that NACKs its listener: NACKED with its words.
    ads = new AdsTestClient(`127.0.0.1:${xdsB}`);
    const stream = ads.sotw();
    stream.send({ type_url: LISTENER, resource_names: [target], node: { id: nodeId('nacker'), cluster: 'e2e', locality: { zone: 'e2e' }, metadata: { GENERATOR: 'grpc' } } });
    let response: SotwResponse | undefined;
    for await (const r of stream.responses()) {
      response = r;
      break;
    }
    expect(response!.resources.map((r) => r.name)).toEqual([target]);
    stream.send({ type_url: LISTENER, resource_names: [target], response_nonce: response!.nonce, version_info: '', error_detail: { code: 3, message: 'e2e: listener refused on purpose' } });
    const nacker = await eventually('the NACK in proxy-status', async () => (await proxyStatus()).find((p) => p.pod === 'nacker' && p.types.lds?.state === 'NACKED'), 30_000, 1000);
    expect(nacker.replica).toBe('proxy-status-b');
    expect(nacker.types.lds!.nack).toBe('e2e: listener refused on purpose');
    expect((await weftCli('proxy-status', `${ns.name}/nacker`)).stdout).toContain('e2e: listener refused on purpose');
    stream.close();
    ads.close();
    ads = undefined;
    await eventually('the NACKing proxy to go', async () => ((await proxyStatus()).some((p) => p.pod === 'nacker') ? undefined : true), 30_000, 1000);

    // config-dump: what client-a holds, and where it comes from (asked of the replica serving it, through the API server).
    const dump = JSON.parse((await weftCli('config-dump', `${ns.name}/client-a`, '-o', 'json')).stdout) as {
      replica: string;
      resources: Array<{ type: string; name: string; state: string; sources: Array<{ kind: string; name: string }>; config: unknown }>;
    };
    expect(dump.replica).toBe('proxy-status-a');
    expect(dump.resources.map((r) => `${r.type} ${r.state}`)).toEqual(expect.arrayContaining(['lds ACKED', 'rds ACKED', 'cds ACKED', 'eds ACKED']));
    const route = dump.resources.find((r) => r.type === 'rds')!;
    expect(route.sources).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'VirtualService', name: 'reviews' })]));
    expect(JSON.stringify(route.config)).toContain('v1');
    const eds = (await weftCli('config-dump', nodeId('client-a'), '--type', 'eds')).stdout;
    expect(eds).toMatch(/^Proxy sidecar~.* on replica proxy-status-a/);
    expect(eds).toContain('WorkloadEntry/');
    expect(eds).not.toMatch(/\n(lds|rds|cds) /);
    expect(kubectl('get', 'configmaps', '-n', 'weft-system', '-l', 'weft.dev/config-dump-request=true', '-o', 'name')).toBe('');

    // describe pod: a pod behind a Service with its own rules, and its proxy (client-a).
    apply(
      ns.name,
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client-a', labels: { app: 'client' } } as never, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] } as never },
      kubeService('client', { app: 'client' }),
      destinationRule('client', 'client'),
      virtualService('client', 'client', [{ route: [{ destination: { host: 'client', subset: 'v1' } }] }]),
    );
    await waitForCondition(ns.name, 'VirtualService', 'client', 'Accepted', 'True');
    const described = (await weftCli('describe', 'pod', 'client-a', '-n', ns.name)).stdout;
    expect(described).toContain(`Host: client.${ns.name}.svc.cluster.local  (via Service ${ns.name}/client)`);
    expect(described).toContain(`VirtualService ${ns.name}/client (Accepted True`);
    expect(described).toContain(`DestinationRule ${ns.name}/client (Accepted True`);
    expect(described).not.toContain(`VirtualService ${ns.name}/reviews`);
    expect(described).toContain(`Proxy: ${nodeId('client-a')} (proxyless) on replica proxy-status-a`);
    expect(described).toMatch(/lds: SYNCED/);

    // Kill b: client-b reconnects (to a, through the front door), proxy-status and the counts follow.
    await b.stop('SIGKILL');
    const moved = await eventually('client-b to show on replica a', async () => {
      const r = await proxyStatus();
      const cb = r.filter((p) => p.pod === 'client-b');
      return cb.length === 1 && cb[0]!.replica === 'proxy-status-a' && Object.values(cb[0]!.types).every((t) => t.state === 'SYNCED') ? r : undefined;
    }, 90_000, 1000);
    expect(moved.map((p) => p.replica)).toEqual(['proxy-status-a', 'proxy-status-a']);
    // b's summary stops counting once stale (it was killed: nothing deleted it). Until then the leader counts
    // client-b twice (3); after, 2/2.
    await eventually('b\'s summary to be ignored as stale', async () => {
      const out = JSON.parse((await weftCli('proxy-status', '-o', 'json')).stdout) as { ignored: Array<{ replica: string }> };
      return out.ignored.some((i) => i.replica === 'proxy-status-b') ? true : undefined;
    }, 60_000, 1000);
    await eventually('the VirtualService to count 2/2 after the failover', async () => {
      const s = statusOf(ns.name, 'VirtualService', 'reviews').status as { proxies?: { acked: number; expected: number } };
      return s.proxies?.expected === 2 && s.proxies.acked === 2 ? true : undefined;
    }, 20_000, 1000);
  }, 420_000);
});
