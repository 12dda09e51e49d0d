// How RestClient reaches the API server without client-node: every kubeconfig variant against a real HTTPS server
// (CA checked, client certificate presented, headers as sent), the loadFromDefault order, token rotation, and the
// fall-back to client-node for credentials Weft does not apply itself (an exec plugin, run for real).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { issueCertificate, spkiOf } from '../ca/certificate.js';
import { ClientNodeAccess } from './client-node-access.js';
import { loadClusterAccess, type ClusterAccess } from './cluster-access.js';
import { readClusterSettings } from './kubeconfig.js';
import { RestClient } from './rest-client.js';
import { StaticAccess } from './static-access.js';
import { TokenFile } from './token-file.js';

const now = Date.now();
const keyPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }) as string;
const root = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rootPem = issueCertificate({ profile: 'root', spki: spkiOf(root.publicKey), subject: { commonName: 'test root' }, notBefore: now - 60_000, notAfter: now + 3_600_000 }, { privateKey: root.privateKey });
const signer = { privateKey: root.privateKey, certificate: new X509Certificate(rootPem) };
function leaf(commonName: string, names: { dnsNames?: string[]; ipAddresses?: string[] }): { cert: string; key: string } {
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const cert = issueCertificate({ profile: 'leaf', spki: spkiOf(keys.publicKey), subject: { commonName }, notBefore: now - 60_000, notAfter: now + 3_600_000, ...names }, signer);
  return { cert, key: keyPem(keys.privateKey) };
}
const client = leaf('alice', {});
const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

interface Seen {
  authorization?: string;
  impersonate?: string;
  clientCn?: string;
}

/** An HTTPS server that asks for a client certificate (without requiring one) and reports what it saw. */
async function startServer(names: { dnsNames?: string[]; ipAddresses?: string[] }): Promise<{ server: Server; url: string }> {
  const serving = leaf('api', names);
  const server = createServer({ cert: serving.cert, key: serving.key, ca: rootPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const seen: Seen = {
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(req.headers['impersonate-user'] ? { impersonate: String(req.headers['impersonate-user']) } : {}),
      ...((req.socket as TLSSocket).authorized && peer.subject ? { clientCn: String(peer.subject.CN) } : {}),
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(seen));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let ip: { server: Server; url: string };
let dnsOnly: { server: Server; url: string }; // a certificate for api.test alone: needs tls-server-name
let dir: string;
const opened: ClusterAccess[] = [];
beforeAll(async () => {
  ip = await startServer({ ipAddresses: ['127.0.0.1'] });
  dnsOnly = await startServer({ dnsNames: ['api.test'] });
  dir = mkdtempSync(join(tmpdir(), 'weft-access-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
});
afterAll(async () => {
  ip.server.closeAllConnections();
  dnsOnly.server.closeAllConnections();
  await Promise.all([ip, dnsOnly].map((s) => new Promise((resolve) => s.server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
/** Writes a kubeconfig (YAML via JSON, which YAML includes, unless given as text) with one context. */
function kubeconfig(cluster: object, user: object = {}, at = join(dir, `config-${files++}`)): string {
  mkdirSync(join(at, '..'), { recursive: true });
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'team' } }],
    'current-context': 'ctx',
  };
  writeFileSync(at, JSON.stringify(doc));
  return at;
}

async function get(access: ClusterAccess): Promise<Seen> {
  opened.push(access);
  return new RestClient(access).json<Seen>('GET', '/version');
}
const load = (kubeconfigPath: string): ClusterAccess => loadClusterAccess({ kubeconfigPath });

describe('static kubeconfigs, without client-node', () => {
  it('speaks HTTP/1.1 to an API server that offers HTTP/2 (Node 24\'s HTTP/2 client can spin in native code)', async () => {
    const serving = leaf('api', { ipAddresses: ['127.0.0.1'] });
    const server = createSecureServer({ cert: serving.cert, key: serving.key, allowHTTP1: true }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ httpVersion: req.httpVersion }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const access = load(kubeconfig({ server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'certificate-authority-data': b64(rootPem) }));
      opened.push(access);
      expect(await new RestClient(access).json('GET', '/version')).toEqual({ httpVersion: '1.1' });
    } finally {
      await Promise.all(opened.splice(0).map((a) => a.close()));
      await new Promise((resolve) => server.close(resolve));
    }
  });


  it('client certificate and CA inline (-data): the CA is checked, the certificate presented', async () => {
    const path = kubeconfig({ server: ip.url, 'certificate-authority-data': b64(rootPem) }, { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) });
    const access = load(path);
    expect(access).toBeInstanceOf(StaticAccess);
    expect(access.namespace).toBe('team');
    expect(await get(access)).toEqual({ clientCn: 'alice' });
  });

  it('client certificate and CA as files, relative to the kubeconfig, in YAML', async () => {
    const folder = join(dir, 'relative');
    mkdirSync(join(folder, 'pki'), { recursive: true });
    writeFileSync(join(folder, 'pki', 'ca.crt'), rootPem);
    writeFileSync(join(folder, 'pki', 'client.crt'), client.cert);
    writeFileSync(join(folder, 'pki', 'client.key'), client.key);
    const path = join(folder, 'config');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'clusters:',
        '- name: c',
        '  cluster:',
        `    server: ${ip.url}/`,
        '    certificate-authority: pki/ca.crt',
        'users:',
        '- name: u',
        '  user:',
        '    client-certificate: pki/client.crt',
        '    client-key: pki/client.key',
        'contexts:',
        '- name: ctx',
        '  context: {cluster: c, user: u}',
        'current-context: ctx',
      ].join('\n'),
    );
    const access = load(path);
    expect(access.server).toBe(ip.url);
    expect(await get(access)).toEqual({ clientCn: 'alice' });
  });

  it('a token, with Impersonate-User from `as`', async () => {
    const path = kubeconfig({ server: ip.url, 'certificate-authority-data': b64(rootPem) }, { token: 'tok-1', as: 'bob' });
    expect(await get(load(path))).toEqual({ authorization: 'Bearer tok-1', impersonate: 'bob' });
  });

  it('the server certificate is verified: without the CA the request fails, insecure-skip-tls-verify lets it through', async () => {
    await expect(get(load(kubeconfig({ server: ip.url }, { token: 't' })))).rejects.toThrow();
    expect(await get(load(kubeconfig({ server: ip.url, 'insecure-skip-tls-verify': true }, { token: 't' })))).toEqual({ authorization: 'Bearer t' });
  });

  it('tls-server-name: the name the server certificate is checked against', async () => {
    const cluster = { server: dnsOnly.url, 'certificate-authority-data': b64(rootPem) };
    await expect(get(load(kubeconfig(cluster)))).rejects.toThrow();
    expect(await get(load(kubeconfig({ ...cluster, 'tls-server-name': 'api.test' })))).toEqual({});
  });

  it('token-file, relative to the kubeconfig', async () => {
    const folder = join(dir, 'token-file');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'token'), 'first\n');
    const access = load(kubeconfig({ server: ip.url, 'certificate-authority-data': b64(rootPem) }, { 'token-file': 'token' }, join(folder, 'config')));
    expect(await get(access)).toEqual({ authorization: 'Bearer first' });
  });

  it('a token written in the kubeconfig wins over token-file (as in client-node)', () => {
    const settings = readClusterSettings({ kubeconfigPath: kubeconfig({ server: ip.url }, { token: 'inline', 'token-file': '/nonexistent' }) });
    expect(settings).toMatchObject({ kind: 'static', token: { value: 'inline' } });
  });
});

describe('TokenFile', () => {
  it('re-reads a rotated token once the check interval has passed, not before', async () => {
    const path = join(dir, 'rotating-token');
    writeFileSync(path, 'one');
    let clock = 1_000;
    const token = new TokenFile(path, 5_000, () => clock);
    expect(await token.read()).toBe('one');
    // The kubelet's way: write a new file, swap it in.
    writeFileSync(`${path}.new`, 'two');
    renameSync(`${path}.new`, path);
    clock += 4_999;
    expect(await token.read()).toBe('one');
    clock += 1;
    expect(await token.read()).toBe('two');
  });

  it('keeps the last token while the file is briefly missing', async () => {
    const path = join(dir, 'vanishing-token');
    writeFileSync(path, 'kept');
    let clock = 0;
    const token = new TokenFile(path, 1, () => clock);
    rmSync(path);
    clock = 10;
    expect(await token.read()).toBe('kept');
  });

  it('throws at once when the file is missing from the start', () => {
    expect(() => new TokenFile(join(dir, 'no-such-token'))).toThrow(/ENOENT/);
  });
});

describe('where the kubeconfig comes from (client-node loadFromDefault order)', () => {
  const serviceAccount = (): string => {
    const sa = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(sa, 'token'), 'sa-token-1');
    writeFileSync(join(sa, 'ca.crt'), rootPem);
    writeFileSync(join(sa, 'namespace'), 'weft-system');
    return sa;
  };

  it('in-cluster: KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount token and CA; the token is re-read as it rotates', async () => {
    const sa = serviceAccount();
    const port = new URL(ip.url).port;
    const settings = readClusterSettings({ env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, serviceAccountDir: sa });
    expect(settings).toMatchObject({ kind: 'static', server: ip.url, namespace: 'weft-system', token: { file: join(sa, 'token') } });
    if (settings.kind !== 'static') throw new Error('not static');
    const access = new StaticAccess(settings);
    expect(await get(access)).toEqual({ authorization: 'Bearer sa-token-1' });
    writeFileSync(join(sa, 'token'), 'sa-token-2');
    await new Promise((resolve) => setTimeout(resolve, 5_100)); // TOKEN_CHECK_INTERVAL_MS
    expect(await get(access)).toEqual({ authorization: 'Bearer sa-token-2' });
  }, 15_000);

  it('in-cluster: an IPv6 service address is bracketed; plain HTTP ports go to client-node, as it alone decides those', () => {
    const sa = serviceAccount();
    expect(readClusterSettings({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa })).toMatchObject({ server: 'https://[fd00::1]:443' });
    expect(readClusterSettings({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '8080' }, serviceAccountDir: sa })).toMatchObject({ kind: 'client-node', server: 'http://10.0.0.1:8080' });
  });

  it('KUBECONFIG first, then ~/.kube/config, then in-cluster; none of them: an error that says where it looked', () => {
    const sa = serviceAccount();
    const home = mkdtempSync(join(dir, 'home-'));
    const inHome = kubeconfig({ server: 'https://home.example' }, {}, join(home, '.kube', 'config'));
    const fromEnv = kubeconfig({ server: 'https://env.example' });
    const env = { HOME: home, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(readClusterSettings({ env: { ...env, KUBECONFIG: fromEnv }, serviceAccountDir: sa }).server).toBe('https://env.example');
    expect(readClusterSettings({ env, serviceAccountDir: sa }).server).toBe('https://home.example');
    rmSync(inHome);
    expect(readClusterSettings({ env, serviceAccountDir: sa }).server).toBe('https://10.0.0.1:443');
    expect(() => readClusterSettings({ env, serviceAccountDir: join(dir, 'nowhere') })).toThrow(/no kubeconfig found/);
  });

  it('KUBECONFIG with several files: merged, a later current-context wins, paths relative to their own file, repeated names rejected', () => {
    const a = join(dir, 'merge-a');
    const b = join(dir, 'merge-b');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    writeFileSync(join(a, 'config'), JSON.stringify({ clusters: [{ name: 'ca', cluster: { server: 'https://a.example' } }], contexts: [{ name: 'a', context: { cluster: 'ca', user: 'ub' } }], 'current-context': 'a' }));
    writeFileSync(join(b, 'ca.crt'), 'CA-B');
    writeFileSync(
      join(b, 'config'),
      JSON.stringify({
        clusters: [{ name: 'cb', cluster: { server: 'https://b.example', 'certificate-authority': 'ca.crt' } }],
        users: [{ name: 'ub', user: { token: 'b-token' } }],
        contexts: [{ name: 'b', context: { cluster: 'cb', user: 'ub' } }],
        'current-context': 'b',
      }),
    );
    const env = (...files: string[]) => ({ KUBECONFIG: ['', ...files, ''].join(delimiter) });
    expect(readClusterSettings({ env: env(join(a, 'config'), join(b, 'config')) })).toMatchObject({ server: 'https://b.example', tls: { ca: Buffer.from('CA-B') } });
    // The user comes from the second file, the context from the first.
    expect(readClusterSettings({ env: env(join(a, 'config'), join(b, 'config')), context: 'a' })).toMatchObject({ server: 'https://a.example', token: { value: 'b-token' } });
    expect(() => readClusterSettings({ env: env(join(a, 'config'), join(a, 'config')) })).toThrow('Duplicate cluster: ca');
    expect(() => readClusterSettings({ env: env(join(a, 'config')), context: 'nope' })).toThrow(/no context nope/);
  });

  it('reports malformed entries in client-node\'s words', () => {
    const path = join(dir, 'malformed');
    writeFileSync(path, JSON.stringify({ clusters: [{ name: 'c', cluster: {} }] }));
    expect(() => readClusterSettings({ kubeconfigPath: path })).toThrow('clusters[0].cluster.server is missing');
  });
});

describe('credentials Weft does not apply itself go through client-node', () => {
  it.each([
    ['exec', { server: 'https://x.example' }, { exec: { command: 'true' } }],
    ['auth-provider', { server: 'https://x.example' }, { 'auth-provider': { name: 'oidc' } }],
    ['username', { server: 'https://x.example' }, { username: 'u', password: 'p' }],
    ['proxy-url', { server: 'https://x.example', 'proxy-url': 'http://proxy:3128' }, {}],
    ['a key Weft does not know', { server: 'https://x.example' }, { 'as-groups': ['g'] }],
    ['plain HTTP without insecure-skip-tls-verify', { server: 'http://x.example' }, {}],
  ])('%s', (_, cluster, user) => {
    const access = load(kubeconfig(cluster, user));
    expect(access).toBeInstanceOf(ClientNodeAccess);
    expect(access.server).toBe(cluster.server);
  });

  it('an exec plugin runs and its token is sent (client-node loaded on the first request)', async () => {
    const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } };
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`], interactiveMode: 'Never' };
    const access = load(kubeconfig({ server: ip.url, 'certificate-authority-data': b64(rootPem) }, { exec }));
    expect(access).toBeInstanceOf(ClientNodeAccess);
    expect(await get(access)).toEqual({ authorization: 'Bearer from-exec' });
  });
});
