// Hostile clients of the operator's authenticated port (real TLS, a real ServiceAccount token, the real API server):
// each bad call gets a clear gRPC status and costs the server only what its limits allow, while an honest proxy,
// relayed by its `weft agent` like any workload's, keeps getting its config. Hostile peers connect from their own
// loopback addresses (127.0.0.2, .3, ...): the per-peer limits count by client IP.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import type * as http2 from 'node:http2';
import * as net from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TypeUrl } from '../../src/xds/protos.js';
import { AdsTestClient } from '../../src/xds/testing/ads-client.js';
import { discoveryRequestFrame, grpcFrame, nonReadingStream, openAdsStream, rawCall, statusOf, tlsSession, type CallStatus } from '../../src/xds/testing/raw-ads.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, startLeader, type RunningOperator } from './operator.js';
import { caPortOf, createServiceAccount, serviceAccountToken, startAgent, type AgentRun } from './workloads.js';
import { apply, destinationRule, serviceEntry } from './xds/mesh.js';

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const MAX_PENDING_BYTES = 1024 * 1024;
const SERVICES = 200;
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let agent: AgentRun | undefined;
let honest: AdsTestClient;
let tlsPort: number;
let rootsPem: string;
let token: string;
const sessions: http2.ClientHttp2Session[] = [];

const nodeId = (pod: string) => `sidecar~127.0.0.71~${pod}.${ns.name}~${ns.name}.svc.cluster.local`;
const host = (i: number) => `svc-${i}.hostile.example`;

/** A TLS session to the operator from `localAddress` (a peer of its own). */
function session(localAddress: string): http2.ClientHttp2Session {
  const s = tlsSession(tlsPort, rootsPem, localAddress);
  s.on('error', () => undefined);
  sessions.push(s);
  return s;
}

/** The honest proxy still gets its config: a fresh stream through its agent is answered with every cluster. */
async function honestIsServed(): Promise<void> {
  const stream = honest.sotw();
  try {
    stream.send({ node: { id: nodeId('honest-0'), locality: { zone: 'e2e' } }, type_url: TypeUrl.cluster });
    const response = await stream.next(15_000);
    expect(response.resources.length).toBeGreaterThanOrEqual(SERVICES);
  } finally {
    stream.close();
  }
}

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'hostile');
  await createServiceAccount(kc, ns.name, 'a');
  operator = await startLeader(kc, 'hostile-operator', [`--xds-port=${await freePort()}`, `--xds-max-pending-bytes=${MAX_PENDING_BYTES}`]);
  apply(ns.name, ...Array.from({ length: SERVICES }, (_, i) => serviceEntry(`svc-${i}`, host(i))));
  tlsPort = await caPortOf(operator);
  rootsPem = await eventually('the trust bundle', async () => (await core.readNamespacedConfigMap({ namespace: ns.name, name: 'weft-root-ca' }).catch(() => undefined))?.data?.['root-cert.pem'], 60_000);
  token = await serviceAccountToken(kc, ns.name, 'a');
  agent = startAgent({ caPort: tlsPort, token, rootsPem, extraArgs: ['--pod-name=honest-0'] });
  const relay = await eventually("the agent's xDS relay", async () => {
    const bootstrap = await readFile(join(agent!.dir, 'bootstrap.json'), 'utf8').catch(() => undefined);
    return bootstrap ? (JSON.parse(bootstrap) as { xds_servers: Array<{ server_uri: string }> }).xds_servers[0]!.server_uri : undefined;
  }, 60_000);
  honest = new AdsTestClient(relay);
  await eventually(`all ${SERVICES} services served`, async () => {
    await honestIsServed();
    return true;
  }, 90_000);
}, 240_000);

afterAll(async () => {
  for (const s of sessions) s.destroy();
  honest?.close();
  await agent?.stop();
  await operator?.stop();
  await ns?.remove();
});

describe('hostile clients on the authenticated xDS port', () => {
  it('answers an unknown type URL, 100 000 resource names, malformed protobuf, an oversized request and a missing token, each with a clear status', async () => {
    const s = session('127.0.0.2');
    const node = { id: nodeId('probe-0'), locality: { zone: 'e2e' } };
    const calls: Record<string, CallStatus | undefined> = {
      unknownType: await rawCall(s, discoveryRequestFrame({ node, type_url: 'type.googleapis.com/envoy.service.runtime.v3.Runtime' }), token),
      names: await rawCall(s, discoveryRequestFrame({ node, type_url: TypeUrl.endpoint, resource_names: Array.from({ length: 100_000 }, (_, i) => `outbound|9080||${host(i)}`) }), token),
      malformed: await rawCall(s, grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])), token),
      oversized: await rawCall(s, grpcFrame(Buffer.alloc(5 * 1024 * 1024)), token),
      noToken: await rawCall(s, discoveryRequestFrame({ node, type_url: TypeUrl.cluster })),
    };
    expect(calls).toEqual({
      unknownType: { status: '3', message: expect.stringContaining('"type.googleapis.com/envoy.service.runtime.v3.Runtime" is not served here') },
      names: { status: '8', message: 'a request may name at most 50000 resources; this one names 100000' },
      malformed: { status: '13', message: expect.stringMatching(/\S/) },
      oversized: { status: '8', message: expect.stringContaining('larger than max') },
      noToken: { status: '16', message: expect.stringMatching(/\S/) },
    });
    await honestIsServed();
  }, 60_000);

  it('refuses 3976 of 5000 streams from one peer (1024 may be open at once) with RESOURCE_EXHAUSTED, and keeps serving the others', async () => {
    const before = (await operator.metric('weft_xds_streams_limited_total', { reason: 'streams-per-peer' })) ?? 0;
    const statuses: Array<Promise<CallStatus | undefined>> = [];
    const streams: http2.ClientHttp2Stream[] = [];
    // 100 streams per connection: the HTTP/2 limit of one connection.
    for (let c = 0; c < 50; c++) {
      const s = session('127.0.0.3');
      for (let i = 0; i < 100; i++) {
        const stream = openAdsStream(s, token);
        stream.on('error', () => undefined);
        streams.push(stream);
        statuses.push(statusOf(stream));
      }
    }
    const ended: CallStatus[] = [];
    for (const p of statuses) void p.then((st) => st && ended.push(st));
    await eventually('3976 streams refused', async () => (ended.length >= 3976 ? true : undefined), 60_000, 200);
    await new Promise((r) => setTimeout(r, 1000)); // none of the admitted ones ends
    expect(ended).toHaveLength(3976);
    expect(new Set(ended.map((st) => `${st.status} ${st.message}`))).toEqual(new Set(['8 too many xDS streams from 127.0.0.3: at most 1024 may be open at once']));
    expect((await operator.metric('weft_xds_streams_limited_total', { reason: 'streams-per-peer' })) ?? 0).toBe(before + 3976);
    await honestIsServed();
    for (const stream of streams) stream.close();
  }, 120_000);

  it('closes the connections one peer opens past 256 as soon as they are accepted, and serves that peer again once it holds fewer', async () => {
    const sockets: net.Socket[] = [];
    const closed = new Set<net.Socket>();
    try {
      await Promise.all(
        Array.from({ length: 300 }, () => new Promise<void>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port: tlsPort, localAddress: '127.0.0.4' }, () => resolve());
          socket.on('error', () => resolve());
          socket.on('close', () => closed.add(socket));
          sockets.push(socket);
        })),
      );
      await eventually('44 connections closed by the server', async () => (closed.size >= 44 ? true : undefined), 10_000, 100);
      await new Promise((r) => setTimeout(r, 500));
      expect(closed.size).toBe(44);
      expect(await operator.metric('weft_tls_connections_refused_total')).toBe(44);
      await honestIsServed();
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const again = await rawCall(session('127.0.0.4'), discoveryRequestFrame({ node: { id: nodeId('probe-1') }, type_url: 'type.googleapis.com/unknown' }), token);
    expect(again?.status).toBe('3');
  }, 60_000);

  it('closes the stream of a client that stops reading once its unread bytes pass the cap, while the honest proxy gets every push', async () => {
    const slow = nonReadingStream(session('127.0.0.5'), nodeId('slow-0'), token, TypeUrl.cluster);
    const reader = honest.sotw();
    try {
      reader.send({ node: { id: nodeId('honest-1'), locality: { zone: 'e2e' } }, type_url: TypeUrl.cluster });
      let response = await reader.next(15_000);
      reader.ack(response, []);
      let outcome: CallStatus | undefined;
      void slow.then((st) => (outcome = st ?? { status: 'closed', message: '' }));
      // Each push changes one cluster: SotW resends all 200 of them to both clients.
      for (let round = 1; round <= 100 && !outcome; round++) {
        apply(ns.name, destinationRule('svc-0', host(0), { trafficPolicy: { connectionPool: { tcp: { maxConnections: round } } } }));
        do response = await reader.next(30_000);
        while (!response.resources.some((r) => new RegExp(`"max_connections":(\\{"value":)?${round}[,}]`).test(JSON.stringify(r.message))));
        reader.ack(response, []);
      }
      // Reset (RST_STREAM ENHANCE_YOUR_CALM: RESOURCE_EXHAUSTED to a gRPC client), which frees what waited for it.
      expect(outcome).toEqual({ status: 'RST_STREAM 11', message: '' });
      expect(await operator.metric('weft_xds_streams_limited_total', { reason: 'pending-bytes' })).toBe(1);
    } finally {
      reader.close();
    }
  }, 180_000);
});
