// The CA as a user meets it: the operator installed from manifests/ and run as its own ServiceAccount, with a
// short-TTL test configuration (root 60 s, intermediate 30 s, workload certificates 10 s) so a whole root
// rotation happens during the suite. Workloads are `weft agent` processes with TokenRequest-issued tokens.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CaClient, CaRequestError } from '../../src/agent/ca-client.js';
import { createCsr } from '../../src/ca/csr.js';
import { generateKey } from '../../src/ca/keys.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { installManifests, kubectl, operatorKubeconfig, startOperator, type RunningOperator } from './operator.js';
import { caPortOf, createServiceAccount, expiredServiceAccountToken, readOut, serviceAccountToken, startAgent, type AgentRun } from './workloads.js';

const require = createRequire(import.meta.url);
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const events = kc.makeApiClient(k8s.EventsV1Api);
const CA_NS = 'weft-system';
const OPERATOR_ID = 'spiffe://cluster.local/ns/weft-system/sa/weft-operator';
const SHORT_TTLS = ['--ca-root-ttl=60s', '--ca-intermediate-ttl=30s', '--ca-workload-ttl=10s', '--ca-max-workload-ttl=10s'];

let operator: RunningOperator | undefined;
let caPort: number;
let ns: { name: string; remove: () => Promise<void> };
const cleanups: Array<() => Promise<void>> = [];

const certs = (pem: string): X509Certificate[] => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
const uriOf = (cert: X509Certificate): string => (cert.subjectAltName ?? '').split(', ').find((s) => s.startsWith('URI:'))?.slice(4) ?? '';

/** Whether a chain (leaf first) verifies up to one of `roots`, signature by signature. */
function chainsTo(chainPem: string, rootsPem: string): X509Certificate | undefined {
  const chain = certs(chainPem);
  for (let i = 0; i + 1 < chain.length; i++) if (!chain[i]!.verify(chain[i + 1]!.publicKey)) return undefined;
  const top = chain[chain.length - 1]!;
  return certs(rootsPem).find((root) => top.checkIssued(root) && top.verify(root.publicKey));
}

async function caSecretData(): Promise<Record<string, string>> {
  const secret = await core.readNamespacedSecret({ namespace: CA_NS, name: 'weft-ca' });
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

async function trustBundleIn(namespace: string): Promise<string> {
  return eventually(`ConfigMap weft-root-ca in ${namespace}`, async () => {
    const cm = await core.readNamespacedConfigMap({ namespace, name: 'weft-root-ca' }).catch(() => undefined);
    return cm?.data?.['root-cert.pem'];
  }, 30_000);
}

beforeAll(async () => {
  installManifests();
  // A fresh CA for this configuration: a previous run's (or another suite's) CA would keep its own lifetimes.
  kubectl('delete', 'secret', 'weft-ca', 'cacerts', '-n', CA_NS, '--ignore-not-found');
  operator = await startOperator(await operatorKubeconfig(kc), 'operator-ca', SHORT_TTLS);
  caPort = await caPortOf(operator);
  ns = await throwawayNamespace(kc, 'ca');
  await createServiceAccount(kc, ns.name, 'frontend');
  await createServiceAccount(kc, ns.name, 'backend');
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await operator?.stop();
  await ns?.remove();
  kubectl('delete', 'secret', 'weft-ca', '-n', CA_NS, '--ignore-not-found');
});

describe('workload certificates through weft agent', () => {
  it('gives two workloads with different ServiceAccounts their own SPIFFE IDs, chained to the mesh roots', async () => {
    const roots = await trustBundleIn(ns.name);
    for (const sa of ['frontend', 'backend']) {
      const agent = startAgent({ caPort, token: await serviceAccountToken(kc, ns.name, sa), rootsPem: roots, once: true });
      expect(await agent.exited).toBe(0);
      const chain = readOut(agent.dir, 'cert-chain.pem');
      const leaf = certs(chain)[0]!;
      expect(uriOf(leaf)).toBe(`spiffe://cluster.local/ns/${ns.name}/sa/${sa}`);
      expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(readOut(agent.dir, 'key.pem')))).toBe(true);
      expect(chainsTo(chain, readOut(agent.dir, 'root-cert.pem'))).toBeDefined();
      expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBeLessThanOrEqual(11_000); // default 10 s + backdate

      // The bootstrap grpc-js-xds will read: its own validator accepts it.
      const bootstrap = JSON.parse(readOut(agent.dir, 'bootstrap.json'));
      const { validateBootstrapConfig } = require('@grpc/grpc-js-xds/build/src/xds-bootstrap.js') as { validateBootstrapConfig(o: unknown): { node: { id: string } } };
      expect(() => validateBootstrapConfig(bootstrap)).not.toThrow();
      expect(bootstrap.certificate_providers.default.config.certificate_file).toBe(join(agent.dir, 'cert-chain.pem'));
      expect(bootstrap.node.metadata).toMatchObject({ NAMESPACE: ns.name, SERVICE_ACCOUNT: sa, GENERATOR: 'grpc' });
    }
  });

  it('issues the caller identity even when the CSR asks for another one, and caps the lifetime', async () => {
    const client = new CaClient({ address: `127.0.0.1:${caPort}`, rootsPem: await trustBundleIn(ns.name), serverIdentity: OPERATOR_ID, serverName: 'weft-operator.weft-system.svc' });
    cleanups.push(async () => client.close());
    const csr = createCsr(await generateKey('RSA_2048'), { uris: ['spiffe://cluster.local/ns/kube-system/sa/admin'] });
    const response = await client.createCertificate(csr, 3600, await serviceAccountToken(kc, ns.name, 'frontend'));
    expect(response.identity).toBe(`spiffe://cluster.local/ns/${ns.name}/sa/frontend`);
    expect(uriOf(certs(response.cert_chain[0]!)[0]!)).toBe(response.identity);
    expect(response.not_after - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(11); // 1 h asked, 10 s maximum
  });
});

describe('refusals say what is wrong', () => {
  let client: CaClient;
  beforeAll(async () => {
    client = new CaClient({ address: `127.0.0.1:${caPort}`, rootsPem: await trustBundleIn(ns.name), serverIdentity: OPERATOR_ID, serverName: 'weft-operator.weft-system.svc' });
  });
  afterAll(() => client.close());

  const refusal = async (token: string, csr?: string): Promise<CaRequestError> => {
    const err = await client.createCertificate(csr ?? createCsr(await generateKey()), 0, token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CaRequestError);
    return err as CaRequestError;
  };

  it('a token for another audience', async () => {
    const err = await refusal(await serviceAccountToken(kc, ns.name, 'frontend', ['https://kubernetes.default.svc.cluster.local']));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.message).toMatch(/not weft-ca: request it with audience weft-ca/);
  });

  it('an invalid token, and no token at all', async () => {
    expect((await refusal('not-a-token')).message).toMatch(/UNAUTHENTICATED: the token is not a ServiceAccount token/);
    const forged = (await serviceAccountToken(kc, ns.name, 'frontend')).slice(0, -8) + 'AAAAAAAA';
    expect((await refusal(forged)).message).toMatch(/UNAUTHENTICATED: the API server rejected the token/);
    expect((await refusal('')).message).toMatch(/UNAUTHENTICATED: no ServiceAccount token/);
  });

  it('an expired token', async () => {
    const sa = await core.readNamespacedServiceAccount({ namespace: ns.name, name: 'frontend' });
    const token = expiredServiceAccountToken(ns.name, 'frontend', sa.metadata!.uid!);
    if (!token) return console.warn('no local ServiceAccount signing key (not the local control plane): skipping the expired-token case');
    const err = await refusal(token);
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.message).toMatch(/the ServiceAccount token expired at .*use a fresh projected token/);
  });

  it('the token of a deleted ServiceAccount', async () => {
    await createServiceAccount(kc, ns.name, 'ephemeral');
    const token = await serviceAccountToken(kc, ns.name, 'ephemeral');
    await core.deleteNamespacedServiceAccount({ namespace: ns.name, name: 'ephemeral' });
    await eventually('the deleted ServiceAccount token to be refused', async () => {
      const err = await refusal(token);
      return /rejected the token/.test(err.message) ? err : undefined;
    }, 30_000);
  });

  it('a bad CSR', async () => {
    const token = await serviceAccountToken(kc, ns.name, 'frontend');
    const err = await refusal(token, '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n');
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/bad CSR: malformed CSR/);
  });
});

describe('trust bundle', () => {
  it('appears in a namespace created later, equal to the CA Secret trust bundle', async () => {
    const later = await throwawayNamespace(kc, 'ca-later');
    cleanups.push(later.remove);
    const bundle = await trustBundleIn(later.name);
    expect(certs(bundle).length).toBeGreaterThanOrEqual(1);
    expect(certs((await caSecretData())['trust-bundle.pem']!).map((c) => c.fingerprint256)).toEqual(expect.arrayContaining(certs(bundle).map((c) => c.fingerprint256)));
  });

  it('exports when the roots, the intermediate and the serving certificate expire', async () => {
    const text = await operator!.metrics();
    for (const certificate of ['root', 'intermediate', 'serving']) {
      expect(text).toMatch(new RegExp(`weft_ca_certificate_expiry_timestamp_seconds\\{certificate="${certificate}"`));
    }
    expect(text).toMatch(/weft_ca_certificate_requests_total\{result="issued"\} [1-9]/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Root rotation while traffic flows: two agents (client and server identities) keep their files fresh; a gRPC
// server and client read them through grpc-js's file_watcher certificate provider (what grpc-js-xds uses for
// xDS-configured mTLS) and make a new mutual-TLS connection for every call across the whole rotation.

const echo: grpc.ServiceDefinition = {
  Who: {
    path: '/weft.test.Echo/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

function fileProvider(dir: string): grpc.experimental.FileWatcherCertificateProvider {
  return new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: join(dir, 'cert-chain.pem'),
    privateKeyFile: join(dir, 'key.pem'),
    caCertificateFile: join(dir, 'root-cert.pem'),
    refreshIntervalMs: 500,
  });
}

describe('root rotation', () => {
  it('moves every workload to a new root with both roots trusted in between, and no call fails', async () => {
    const roots = await trustBundleIn(ns.name);
    const serverAgent: AgentRun = startAgent({ caPort, token: await serviceAccountToken(kc, ns.name, 'backend'), rootsPem: roots });
    const clientAgent: AgentRun = startAgent({ caPort, token: await serviceAccountToken(kc, ns.name, 'frontend'), rootsPem: roots });
    cleanups.push(serverAgent.stop, clientAgent.stop);
    for (const agent of [serverAgent, clientAgent]) await eventually('agent files', async () => (agent.output().includes('certificate written') ? true : undefined), 30_000);

    const server = new grpc.Server();
    server.addService(echo, {
      Who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, Buffer.from(call.getAuthContext().sslPeerCertificate?.subjectaltname ?? 'none')),
    });
    const serverProvider = fileProvider(serverAgent.dir);
    // Identity provider first: see src/ca/server.ts.
    const serverCreds = grpc.experimental.createCertificateProviderServerCredentials(serverProvider, serverProvider, true);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', serverCreds, (e, p) => (e ? reject(e) : resolve(p))));
    cleanups.push(() => new Promise((resolve) => server.tryShutdown(() => resolve())));

    const clientProvider = fileProvider(clientAgent.dir);
    const backendId = `spiffe://cluster.local/ns/${ns.name}/sa/backend`;
    const Client = grpc.makeGenericClientConstructor(echo, 'Echo');
    let calls = 0;
    const failures: string[] = [];
    const call = async (): Promise<void> => {
      const creds = grpc.experimental.createCertificateProviderChannelCredentials(clientProvider, clientProvider, {
        checkServerIdentity: (_host, cert) => ((cert.subjectaltname ?? '').includes(`URI:${backendId}`) ? undefined : new Error(`unexpected server ${cert.subjectaltname}`)),
      });
      const client = new Client(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'backend', 'grpc.use_local_subchannel_pool': 1 });
      try {
        const reply = await new Promise<Buffer>((resolve, reject) =>
          (client as unknown as { Who(b: Buffer, o: { deadline: number }, cb: (e: Error | null, r?: Buffer) => void): void }).Who(Buffer.alloc(0), { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r!))),
        );
        if (!reply.toString().includes(`/sa/frontend`)) failures.push(`server saw ${reply.toString()}`);
      } catch (err) {
        failures.push((err as Error).message);
      } finally {
        calls++;
        client.close();
      }
    };

    const rootsOf = (dir: string): string[] => certs(readOut(dir, 'root-cert.pem')).map((c) => c.fingerprint256);
    const issuingRoot = (dir: string): string | undefined => chainsTo(readOut(dir, 'cert-chain.pem'), readOut(dir, 'root-cert.pem'))?.fingerprint256;
    // The suite's root rotates every 40 s or so; the test may start in any phase, so it waits for a root it has
    // not seen yet and follows that one through the three phases.
    const seen = new Set(rootsOf(clientAgent.dir));

    let traffic = true;
    const load = (async () => {
      while (traffic) {
        await call();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      // Phase 1: a new root joins every bundle while the previous one still signs.
      const { next, previous } = await eventually('a new root in both workloads\' bundles, not signing yet', async () => {
        const candidate = rootsOf(clientAgent.dir).find((f) => !seen.has(f));
        const signing = issuingRoot(clientAgent.dir);
        if (!candidate || !rootsOf(serverAgent.dir).includes(candidate) || !signing || signing === candidate) return undefined;
        return { next: candidate, previous: signing };
      }, 120_000, 500);
      // Phase 2: the new root signs; the previous one is still trusted, so old and new certificates both verify.
      await eventually('certificates from the new root while both roots are trusted', async () =>
        [clientAgent, serverAgent].every((a) => issuingRoot(a.dir) === next && rootsOf(a.dir).includes(previous)) ? true : undefined,
      60_000, 500);
      // Phase 3: the previous root leaves the bundles once every certificate it issued has expired.
      await eventually('the previous root retired', async () =>
        [clientAgent, serverAgent].every((a) => !rootsOf(a.dir).includes(previous)) ? true : undefined, 60_000, 500);
      expect(issuingRoot(clientAgent.dir)).toBe(next);
    } finally {
      traffic = false;
      await load;
    }
    expect(calls).toBeGreaterThan(20);
    expect(failures).toEqual([]);

    const reasons = (await events.listNamespacedEvent({ namespace: CA_NS })).items.filter((e) => e.regarding?.name === 'weft-ca').map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['RootCreated', 'RootRotationStarted', 'RootActivated', 'RootRetired']));
  }, 240_000);
});
