// Mutual TLS and authorization on real traffic: the operator (dist/, as its ServiceAccount, with its CA and xDS)
// configures a grpc-js-xds XdsServer and xDS clients, each one a process beside its own `weft agent` (TokenRequest
// token of its own ServiceAccount): the agent writes the certificate files and the bootstrap, and is the workload's
// xDS server, relaying to the operator's TLS port with the token. MeshPolicy decides.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { X509Certificate } from 'node:crypto';
import { freePort, installManifests, kubectl, operatorKubeconfig, startOperator, type RunningOperator } from './operator.js';
import { caPortOf, createServiceAccount, plaintextCall as plaintextTo, readOut, serviceAccountToken, startAgent, startMeshWorkload, workloadCalls, type AgentRun } from './workloads.js';
import { AdsTestClient, decodeAny } from '../../src/xds/testing/ads-client.js';
import { TypeUrl } from '../../src/xds/protos.js';
import { apply, serviceEntry, waitForCondition, workloadEntry } from './xds/mesh.js';
import type { WorkloadCall } from './xds/mesh-workload-process.js';

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const SERVER_IP = '127.0.0.41';
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator | undefined;
let xdsPort: number;
let caPort: number;
let serverPort: number;
let host: string;
const processes: ChildProcess[] = [];
const agents: AgentRun[] = [];

/** A workload process, once `weft agent` has written its bootstrap and certificate for `serviceAccount`. */
async function workload(serviceAccount: string, ip: string, env: Record<string, string>): Promise<ChildProcess> {
  const roots = await eventually('the trust bundle', async () => (await core.readNamespacedConfigMap({ namespace: ns.name, name: 'weft-root-ca' }).catch(() => undefined))?.data?.['root-cert.pem'], 30_000);
  const agent = startAgent({
    caPort,
    token: await serviceAccountToken(kc, ns.name, serviceAccount),
    rootsPem: roots,
    extraArgs: [`--pod-ip=${ip}`, `--pod-name=${serviceAccount}`, '--refresh-interval=1s'],
  });
  agents.push(agent);
  const child = await startMeshWorkload(agent, env);
  processes.push(child);
  return child;
}

const calls = (client: ChildProcess, path: string, count = 5) => workloadCalls(client, path, count);
const plaintextCall = () => plaintextTo(`${SERVER_IP}:${serverPort}`);

const meshPolicy = (spec: object) => ({ kind: 'MeshPolicy', metadata: { name: 'backend' }, spec: { selector: { matchLabels: { app: 'secure' } }, ...spec } });
/** Applies a policy and waits until `check` holds for what a client sees (xDS pushes take a moment). */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return eventually(what, probe, 60_000, 500);
}
const all = (results: WorkloadCall[], code: number) => results.length > 0 && results.every((r) => r.code === code);

let frontend: ChildProcess;
let other: ChildProcess;
const identity = (sa: string) => `spiffe://cluster.local/ns/${ns.name}/sa/${sa}`;

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'sec');
  for (const sa of ['backend', 'frontend', 'other']) await createServiceAccount(kc, ns.name, sa);
  xdsPort = await freePort();
  serverPort = await freePort();
  // --xds-port turns xDS on (its plaintext loopback port goes unused here); the TLS port serves it to the agents.
  // Short CA lifetimes (root 60 s, workload certificates 10 s), and a fresh CA, so a root rotation happens here.
  kubectl('delete', 'secret', 'weft-ca', '-n', 'weft-system', '--ignore-not-found');
  operator = await startOperator(await operatorKubeconfig(kc), 'security-operator', [
    `--xds-port=${xdsPort}`,
    '--ca-root-ttl=60s', '--ca-intermediate-ttl=30s', '--ca-workload-ttl=10s', '--ca-max-workload-ttl=10s',
  ]);
  caPort = await caPortOf(operator);
  host = `secure.${ns.name}.svc.cluster.local`;
  apply(
    ns.name,
    serviceEntry('secure', host),
    workloadEntry('backend', { address: SERVER_IP, port: serverPort } as never, { app: 'secure' }, 'backend'),
    meshPolicy({ mtls: { mode: 'STRICT' } }),
  );
  await workload('backend', SERVER_IP, { WORKLOAD_ROLE: 'server', WORKLOAD_ADDRESS: `${SERVER_IP}:${serverPort}` });
  frontend = await workload('frontend', '127.0.0.42', { WORKLOAD_ROLE: 'client', WORKLOAD_TARGET: `${host}:9080` });
  other = await workload('other', '127.0.0.43', { WORKLOAD_ROLE: 'client', WORKLOAD_TARGET: `${host}:9080` });
}, 180_000);

afterAll(async () => {
  for (const p of processes) p.kill();
  for (const a of agents) await a.stop();
  await operator?.stop();
  await ns?.remove();
  kubectl('delete', 'secret', 'weft-ca', '-n', 'weft-system', '--ignore-not-found');
});

describe('xDS for workloads goes through their agents', () => {
  it('the operator serves xDS on its TLS port only to callers with a ServiceAccount token', async () => {
    const roots = (await core.readNamespacedConfigMap({ namespace: ns.name, name: 'weft-root-ca' })).data!['root-cert.pem']!;
    const operatorId = 'spiffe://cluster.local/ns/weft-system/sa/weft-operator';
    const creds = grpc.credentials.createSsl(Buffer.from(roots), null, null, {
      checkServerIdentity: (_h, cert) => ((cert.subjectaltname ?? '').includes(`URI:${operatorId}`) ? undefined : new Error('not the operator')),
    });
    const client = new grpc.Client(`127.0.0.1:${caPort}`, creds, { 'grpc.ssl_target_name_override': 'weft-operator.weft-system.svc' });
    const bytes = (b: Buffer) => b;
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.makeBidiStreamRequest('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', bytes, bytes, new grpc.Metadata());
      call.on('error', resolve);
      call.on('data', () => undefined);
      call.write(Buffer.alloc(0));
    });
    client.close();
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toMatch(/no ServiceAccount token/);
  });
});

describe('mutual TLS from MeshPolicy, on real grpc-js-xds traffic', () => {
  it('2. STRICT: the mesh client gets through with its certificate and a plaintext client is refused; a port-level DISABLE and PERMISSIVE accept both', async () => {
    const strict = await until('mTLS calls from frontend', async () => {
      const results = await calls(frontend, '/weft.test.Echo/Call');
      return all(results, 0) ? results : undefined;
    });
    expect(strict.map((r) => r.peer)).toEqual(Array(5).fill(identity('frontend'))); // the server saw the caller's SPIFFE ID
    const refused = await plaintextCall();
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);

    // A port-level exception (Istio's portLevelMtls) on the backend's port: plaintext there, and the mesh client's
    // automatic mTLS follows the port's mode, not the workload's.
    apply(ns.name, meshPolicy({ mtls: { mode: 'STRICT' }, portLevelMtls: { [String(serverPort)]: { mode: 'DISABLE' } } }));
    await until('a plaintext client on the port-level DISABLE port', async () => ((await plaintextCall()).code === 0 ? true : undefined));
    const portLevel = await until('frontend in plaintext on that port', async () => {
      const results = await calls(frontend, '/weft.test.Echo/Call');
      return all(results, 0) && results.every((r) => r.peer === 'plaintext') ? results : undefined;
    });
    expect(portLevel).toHaveLength(5);

    apply(ns.name, meshPolicy({ mtls: { mode: 'PERMISSIVE' } }));
    await until('a plaintext client to get through under PERMISSIVE', async () => ((await plaintextCall()).code === 0 ? true : undefined));
    const permissive = await until('the mesh client under PERMISSIVE', async () => {
      const results = await calls(frontend, '/weft.test.Echo/Call');
      return all(results, 0) ? results : undefined;
    });
    expect(permissive.every((r) => r.peer === 'plaintext')).toBe(true); // proxyless PERMISSIVE serves plaintext
  });

  it('3. ALLOW ns/<ns>/sa/frontend admits it and denies another identity; a DENY rule on a path blocks just that path; notPrincipals and notPaths make exceptions', async () => {
    apply(ns.name, meshPolicy({ mtls: { mode: 'STRICT' }, authorization: { action: 'ALLOW', rules: [{ from: [{ principals: [`cluster.local/ns/${ns.name}/sa/frontend`] }] }] } }));
    const denied = await until('the other identity to be denied', async () => {
      const results = await calls(other, '/weft.test.Echo/Call');
      return all(results, grpc.status.PERMISSION_DENIED) ? results : undefined;
    });
    expect(denied[0]!.details).toMatch(/Unauthorized RPC rejected/);
    // The move from PERMISSIVE to STRICT reaches the server and the client separately: wait for both.
    await until('frontend to be admitted over mTLS', async () => (all(await calls(frontend, '/weft.test.Echo/Call'), 0) ? true : undefined));

    apply(ns.name, meshPolicy({ mtls: { mode: 'STRICT' }, authorization: { action: 'DENY', rules: [{ to: [{ paths: ['/weft.test.Echo/Admin'] }] }] } }));
    await until('Admin to be denied to frontend', async () => (all(await calls(frontend, '/weft.test.Echo/Admin'), grpc.status.PERMISSION_DENIED) ? true : undefined));
    expect(all(await calls(frontend, '/weft.test.Echo/Call'), 0)).toBe(true);
    expect(all(await calls(other, '/weft.test.Echo/Call'), 0)).toBe(true); // the ALLOW rule is gone: only the path is blocked

    // Istio's negative fields: denied unless the caller is frontend or the method is Call.
    const exceptFrontend = { from: [{ notPrincipals: [`cluster.local/ns/${ns.name}/sa/frontend`] }], to: [{ notPaths: ['/weft.test.Echo/Call'] }] };
    apply(ns.name, meshPolicy({ mtls: { mode: 'STRICT' }, authorization: { action: 'DENY', rules: [exceptFrontend] } }));
    // Only the new policy lets frontend call Admin: wait for that, then the others hold with it.
    await until('Admin to be allowed to frontend', async () => (all(await calls(frontend, '/weft.test.Echo/Admin'), 0) ? true : undefined));
    expect(all(await calls(other, '/weft.test.Echo/Admin'), grpc.status.PERMISSION_DENIED)).toBe(true);
    expect(all(await calls(other, '/weft.test.Echo/Call'), 0)).toBe(true);
  });

  it('4. a root rotation under mTLS traffic: no call fails, and the workloads end up on certificates from the new root', async () => {
    apply(ns.name, meshPolicy({ mtls: { mode: 'STRICT' } }));
    await until('mTLS calls from frontend', async () => (all(await calls(frontend, '/weft.test.Echo/Call', 2), 0) ? true : undefined));
    const server = agents[0]!;
    const certs = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
    const roots = () => certs(readOut(server.dir, 'root-cert.pem'));
    const signingRoot = () => {
      const chain = certs(readOut(server.dir, 'cert-chain.pem'));
      return roots().find((r) => chain.at(-1)!.checkIssued(r) && chain.at(-1)!.verify(r.publicKey))?.fingerprint256;
    };
    const before = new Set(roots().map((r) => r.fingerprint256));
    const results: WorkloadCall[] = [];
    let rotated: string | undefined;
    const deadline = Date.now() + 150_000;
    // Calls every ~250 ms until the server's certificate comes from a root not trusted when we started, and every
    // root trusted then has left its bundle.
    while (Date.now() < deadline) {
      results.push(...(await calls(frontend, '/weft.test.Echo/Call', 2)));
      const signing = signingRoot();
      if (signing && !before.has(signing)) rotated = signing;
      if (rotated && roots().every((r) => !before.has(r.fingerprint256))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(rotated).toBeDefined();
    expect(roots().map((r) => r.fingerprint256)).not.toEqual(expect.arrayContaining([...before]));
    expect(results.length).toBeGreaterThan(50);
    expect(results.filter((r) => r.code !== 0)).toEqual([]);
    expect(new Set(results.map((r) => r.peer))).toEqual(new Set([identity('frontend')]));
  }, 200_000);
});

describe('MeshPolicy on an Envoy sidecar (no Envoy here: a raw ADS client asks as the backend\'s sidecar)', () => {
  type Msg = Record<string, any>;
  const typed = (any: { type_url: string; value: Uint8Array }): Msg => decodeAny(any).message as Msg;

  it('5. its inbound listener carries the TLS chain, RBAC and the rate limit; the status says proxyless cannot rate-limit', async () => {
    apply(ns.name, meshPolicy({
      mtls: { mode: 'STRICT' },
      authorization: { action: 'ALLOW', rules: [{ from: [{ principals: [`cluster.local/ns/${ns.name}/sa/frontend`] }] }] },
      rateLimit: { requestsPerUnit: 50, unit: 'SECOND', burst: 100 },
    }));
    await waitForCondition(ns.name, 'MeshPolicy', 'backend', 'Accepted', 'True', (s) =>
      (s.conditions ?? []).some((c) => c.type === 'Accepted' && c.message.includes('rateLimit applies to Envoy sidecars only: proxyless gRPC clients cannot enforce it')),
    );
    const client = new AdsTestClient(`127.0.0.1:${xdsPort}`);
    try {
      const chainName = `inbound|${serverPort}||mtls`;
      const chain = await until('the sidecar inbound chain with RBAC and the rate limit', async () => {
        const stream = client.sotw();
        try {
          stream.send({ type_url: TypeUrl.listener, node: { id: `sidecar~${SERVER_IP}~backend-0.${ns.name}~${ns.name}.svc.cluster.local` } });
          const response = await stream.next(10_000);
          const inbound = response.resources.find((r) => r.name === 'virtualInbound')?.message as Msg | undefined;
          const found = (inbound?.filter_chains as Msg[] | undefined)?.find((c) => c.name === chainName);
          if (!found) return undefined;
          const hcm = typed(found.filters[0].typed_config);
          const names = (hcm.http_filters as Msg[]).map((f) => f.name);
          return names.includes('weft.rbac.allow') && names.includes('envoy.filters.http.local_ratelimit') ? { chain: found, hcm, names } : undefined;
        } finally {
          stream.close();
        }
      });
      expect(chain.names).toEqual(['weft.rbac.allow', 'envoy.filters.http.local_ratelimit', 'envoy.filters.http.fault', 'envoy.filters.http.router']);
      expect(chain.chain.filter_chain_match).toMatchObject({ destination_port: { value: serverPort } });
      expect(chain.chain.filter_chain_match.transport_protocol ?? '').toBe(''); // STRICT: plaintext fails the handshake
      expect(typed(chain.chain.transport_socket.typed_config)).toMatchObject({
        require_client_certificate: { value: true },
        common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default' }], validation_context_sds_secret_config: { name: 'ROOTCA' } },
      });
      const limit = typed((chain.hcm.http_filters as Msg[])[1]!.typed_config);
      expect(limit.token_bucket).toMatchObject({ max_tokens: 100, tokens_per_fill: { value: 50 }, fill_interval: { seconds: '1' } });

      // The secrets it names: only the agent's file paths.
      const sds = client.sotw();
      try {
        sds.send({ type_url: TypeUrl.secret, resource_names: ['default'], node: { id: `sidecar~${SERVER_IP}~backend-0.${ns.name}~${ns.name}.svc.cluster.local` } });
        const secret = (await sds.next(10_000)).resources.find((r) => r.name === 'default')!.message as Msg;
        expect(secret.tls_certificate).toMatchObject({
          certificate_chain: { filename: '/var/run/weft/cert-chain.pem' },
          private_key: { filename: '/var/run/weft/key.pem' },
          watched_directory: { path: '/var/run/weft' },
        });
      } finally {
        sds.close();
      }
    } finally {
      client.close();
    }
  });
});

describe('bad input never changes what is enforced', () => {
  it('6. a MeshPolicy update that is not accepted leaves its last accepted authorization in force', async () => {
    // An accepted generation with a port-level exception first: the one after it drops the field, and a refused
    // update must bring back that one, not the exception (status.lastAccepted is written as a replacement).
    apply(ns.name, meshPolicy({ mtls: { mode: 'STRICT' }, portLevelMtls: { [String(serverPort)]: { mode: 'DISABLE' } } }));
    await until('a plaintext client on the port-level DISABLE port', async () => ((await plaintextCall()).code === 0 ? true : undefined));
    const allowFrontend = { mtls: { mode: 'STRICT' }, authorization: { action: 'ALLOW', rules: [{ from: [{ principals: [`cluster.local/ns/${ns.name}/sa/frontend`] }] }] } };
    apply(ns.name, meshPolicy(allowFrontend));
    await waitForCondition(ns.name, 'MeshPolicy', 'backend', 'Ready', 'True');
    await until('the other identity to be denied', async () => (all(await calls(other, '/weft.test.Echo/Call'), grpc.status.PERMISSION_DENIED) ? true : undefined));
    await until('frontend to be admitted', async () => (all(await calls(frontend, '/weft.test.Echo/Call'), 0) ? true : undefined));

    // Drops the ALLOW rule (which would let `other` in) and names a tracing provider that does not exist: not accepted.
    apply(ns.name, meshPolicy({ mtls: { mode: 'STRICT' }, telemetry: { tracing: { provider: 'bogus', endpoint: 'collector:4317' } } }));
    const s = await waitForCondition(ns.name, 'MeshPolicy', 'backend', 'Accepted', 'False');
    expect(s.conditions!.find((c) => c.type === 'Accepted')!.message).toContain('spec.telemetry.tracing.provider');
    const programmed = await waitForCondition(ns.name, 'MeshPolicy', 'backend', 'Programmed', 'False', (x) =>
      (x.conditions ?? []).some((c) => c.type === 'Programmed' && c.reason === 'ServingLastAccepted'),
    );
    expect(programmed.conditions!.find((c) => c.type === 'Programmed')!.message).toMatch(/generation \d+, the last accepted, is in force/);
    // Over several rounds (pushes are debounced in ~100 ms), the last accepted policy keeps deciding.
    for (let round = 0; round < 6; round++) {
      expect(all(await calls(other, '/weft.test.Echo/Call'), grpc.status.PERMISSION_DENIED)).toBe(true);
      expect(all(await calls(frontend, '/weft.test.Echo/Call'), 0)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await plaintextCall()).code).toBe(grpc.status.UNAVAILABLE); // STRICT on every port, as last accepted
  });
});
