// The weft.dev/v1alpha1 CRDs on a real API server: they install (server-side apply) and become Established, the
// API server rejects invalid objects with a message naming the field (schema: enums, ranges, patterns, required,
// unknown fields; CEL rules), and every sample in config/samples is accepted and listed by `kubectl get weft`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { API_VERSION, GROUP, MESH_KINDS, VERSION, crds, resources, type MeshKind } from '../../src/api/index.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const kc = kubeConfig();
const extensions = kc.makeApiClient(k8s.ApiextensionsV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const FIELD_MANAGER = 'weft-e2e-api';

type Json = Record<string, any>;

/** The samples, without the Namespace, keyed by kind. */
const samplesDir = join(repoRoot, 'config', 'samples');
const samples: Json[] = readdirSync(samplesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) => YAML.parseAllDocuments(readFileSync(join(samplesDir, f), 'utf8')).map((d) => d.toJS() as Json))
  .filter((o) => o.apiVersion === API_VERSION);
const sample = (kind: MeshKind): Json => structuredClone(samples.find((o) => o.kind === kind)!);

/** The built kubectl (the machine's may be an old dispatcher), else the one on PATH. */
function kubectlPath(): string {
  const version = /K8S_VERSION=(\S+)/.exec(readFileSync(join(repoRoot, 'hack/cluster/versions.env'), 'utf8'))![1];
  const cache = process.env.WEFT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'weft');
  const built = join(cache, `k8s-${version}`, 'bin', 'kubectl');
  return existsSync(built) ? built : 'kubectl';
}

interface Rejection {
  code: number;
  message: string;
}

/** Creates `object` in `namespace` (server-side dry run, strict field validation, as kubectl does); returns the rejection, if any. */
async function tryCreate(namespace: string, object: Json): Promise<Rejection | undefined> {
  const info = resources[object.kind as MeshKind];
  try {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: info.plural,
      body: { ...object, metadata: { ...object.metadata, namespace } },
      dryRun: 'All',
      fieldValidation: 'Strict',
    });
    return undefined;
  } catch (err) {
    if (!(err instanceof k8s.ApiException)) throw err;
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Json) : (err.body as Json);
    return { code: err.code, message: String(body?.message ?? err.body) };
  }
}

let ns: Awaited<ReturnType<typeof throwawayNamespace>>;

beforeAll(async () => {
  for (const kind of MESH_KINDS) {
    const crd = crds[kind];
    // The body goes out as JSON (the patch body is untyped, so client-node does not rename x-kubernetes-* keys).
    await extensions.patchCustomResourceDefinition(
      { name: crd.metadata.name, body: crd, fieldManager: FIELD_MANAGER, force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
  }
  await Promise.all(
    MESH_KINDS.map((kind) =>
      eventually(`the ${kind} CRD to be Established`, async () => {
        const crd = await extensions.readCustomResourceDefinition({ name: crds[kind].metadata.name });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      }),
    ),
  );
  ns = await throwawayNamespace(kc, 'api');
  // The API server serves a new CRD a moment after Established; wait until a valid object is accepted.
  for (const kind of MESH_KINDS) {
    await eventually(`${kind} to be served`, async () => ((await tryCreate(ns.name, sample(kind))) === undefined ? true : undefined), 30_000);
  }
});

afterAll(async () => {
  await ns?.remove();
});

interface InvalidCase {
  what: string;
  kind: MeshKind;
  mutate: (spec: Json) => void;
  /** Substrings of the API server's message: the field path and what is wrong. */
  expect: string[];
  code?: number;
}

const invalid: InvalidCase[] = [
  // ---- VirtualService
  {
    what: 'route weights that do not sum to 100 (CEL)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].route[1].weight = 30; },
    expect: ['spec.http[0].route', 'route weights must sum to 100 when more than one destination has a weight'],
  },
  {
    what: 'a route with both route and redirect (CEL)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].redirect = { uri: '/v2' }; },
    expect: ['spec.http[0]', 'exactly one of route, redirect or directResponse must be set'],
  },
  {
    what: 'a StringMatch with exact and prefix (CEL)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].match[0].uri = { exact: '/a', prefix: '/' }; },
    expect: ['spec.http[0].match[0].uri', 'at most one of exact, prefix or regex may be set'],
  },
  {
    what: 'a fault abort with httpStatus and grpcStatus (CEL)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].fault = { abort: { httpStatus: 503, grpcStatus: 'UNAVAILABLE', percentage: { value: 5 } } }; },
    expect: ['spec.http[0].fault.abort', 'exactly one of httpStatus, grpcStatus or http2Error must be set'],
  },
  {
    what: 'an http2Error abort (CEL, as Istio: not supported yet)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].fault = { abort: { http2Error: 'REFUSED_STREAM' } }; },
    expect: ['spec.http[0].fault.abort.http2Error', 'HTTP/2 abort fault injection (http2Error) is not supported yet'],
  },
  {
    what: 'an exponentialDelay (CEL, as Istio: not supported yet)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].fault = { delay: { exponentialDelay: '1s' } }; },
    expect: ['spec.http[0].fault.delay.exponentialDelay', 'exponentialDelay is not supported yet'],
  },
  {
    what: 'a redirect with uri and prefixRewrite (CEL, as Istio)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0] = { redirect: { uri: '/a', prefixRewrite: '/b' } }; },
    expect: ['spec.http[0].redirect.prefixRewrite', 'redirect may only specify one of uri or prefixRewrite'],
  },
  {
    what: 'a redirect prefixRewrite under an exact uri match (CEL, as Istio)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0] = { match: [{ uri: { exact: '/a' } }], redirect: { prefixRewrite: '/b' } }; },
    expect: ['spec.http[0].redirect.prefixRewrite', 'redirect prefixRewrite requires all URI matches to use prefix match type'],
  },
  {
    what: 'a mirrorPercent over 100 (as Istio)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].mirrorPercent = 101; },
    expect: ['spec.http[0].mirrorPercent', 'should be less than or equal to 100'],
  },
  {
    what: 'a timeout that is not a duration (pattern)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].timeout = '2 seconds'; },
    expect: ['spec.http[0].timeout', 'should match'],
  },
  {
    what: 'a weight above 100 (range)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].route[0].weight = 150; },
    expect: ['spec.http[0].route[0].weight', 'should be less than or equal to 100'],
  },
  {
    what: 'negative retry attempts (range)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].retries.attempts = -1; },
    expect: ['spec.http[0].retries.attempts', 'should be greater than or equal to 0'],
  },
  {
    what: 'no hosts (a delegate) but gateways (delegates serve only through a root)',
    kind: 'VirtualService',
    mutate: (s) => { delete s.hosts; },
    expect: ['spec.gateways', 'a delegate VirtualService (no hosts) must not set gateways'],
  },
  {
    what: 'a misspelled field under strict field validation (unknown field)',
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].retries.attemps = 3; },
    expect: ['unknown field "spec.http[0].retries.attemps"'],
    code: 400,
  },
  // ---- DestinationRule
  {
    what: 'a warmup without duration (as Istio: duration is required)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy = { loadBalancer: { warmup: { minimumPercent: 10 } } }; },
    expect: ['spec.trafficPolicy.loadBalancer.warmup.duration', 'Required value'],
  },
  {
    what: 'a warmup aggression of 0 (CEL, as Istio)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy = { loadBalancer: { warmup: { duration: '30s', aggression: 0 } } }; },
    expect: ['spec.trafficPolicy.loadBalancer.warmup.aggression', 'aggression must be greater than 0'],
  },
  {
    what: 'an http2KeepAlive without timeout (as Istio: both are required)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy = { connectionPool: { http: { http2KeepAlive: { interval: '10s' } } } }; },
    expect: ['spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout', 'Required value'],
  },

  {
    what: 'a failoverPriority on a topology label (CEL, as Istio)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy = { loadBalancer: { zoneAwareLbSetting: { failoverPriority: ['topology.kubernetes.io/zone'] } } }; },
    expect: ['spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failoverPriority', 'must not use topology labels'],
  },
  {
    what: 'the deprecated minimumRingSize with ringHash (CEL, as Istio)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy = { loadBalancer: { consistentHash: { useSourceIp: true, minimumRingSize: 1024, ringHash: { minimumRingSize: 2048 } } } }; },
    expect: ['spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize', 'only one of minimumRingSize or maglev/ringHash can be specified'],
  },
  {
    what: 'tunnel and proxyProtocol together (CEL, as Istio)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy = { tunnel: { targetHost: 'proxy.example.com', targetPort: 3128 }, proxyProtocol: { version: 'V2' } }; },
    expect: ['spec.trafficPolicy.proxyProtocol', 'tunnel and proxyProtocol must not be set together'],
  },

  {
    what: 'an unknown load balancer (enum)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy.loadBalancer.simple = 'FASTEST'; },
    expect: ['spec.trafficPolicy.loadBalancer.simple', 'Unsupported value: "FASTEST"'],
  },
  {
    what: 'two consistent hash keys (CEL)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy.loadBalancer = { consistentHash: { httpHeaderName: 'x-user', useSourceIp: true } }; },
    expect: ['spec.trafficPolicy.loadBalancer.consistentHash', 'exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName'],
  },
  {
    what: 'duplicate subset names (CEL)',
    kind: 'DestinationRule',
    mutate: (s) => { s.subsets[1].name = 'v1'; },
    expect: ['spec.subsets', 'subset names must be unique'],
  },
  {
    what: 'maxEjectionPercent above 100 (range)',
    kind: 'DestinationRule',
    mutate: (s) => { s.trafficPolicy.outlierDetection.maxEjectionPercent = 101; },
    expect: ['spec.trafficPolicy.outlierDetection.maxEjectionPercent', 'should be less than or equal to 100'],
  },
  // ---- Gateway
  {
    what: 'SIMPLE TLS without any certificate (CEL)',
    kind: 'Gateway',
    mutate: (s) => { delete s.servers[0].tls.credentialName; },
    expect: ['spec.servers[0].tls.credentialName', 'credentialName is required for mode SIMPLE and MUTUAL unless credentialNames, serverCertificate or tlsCertificates is given'],
  },
  {
    what: 'a port above 65535 (range)',
    kind: 'Gateway',
    mutate: (s) => { s.servers[0].port.number = 70000; },
    expect: ['spec.servers[0].port.number', 'should be less than or equal to 65535'],
  },
  {
    what: 'an unknown protocol (CEL: Istio\'s names, in any case)',
    kind: 'Gateway',
    mutate: (s) => { s.servers[1].port.protocol = 'QUIC'; },
    expect: ['spec.servers[1].port.protocol', 'unsupported protocol "QUIC": one of HTTP, HTTP_PROXY, GRPC-WEB, HTTP2, HTTPS, GRPC, TCP, TLS, MONGO, REDIS, MYSQL (in any case)'],
  },
  {
    what: 'a lower-case https server without tls (CEL: the rule reads the protocol in any case)',
    kind: 'Gateway',
    mutate: (s) => { s.servers[0].port.protocol = 'https'; delete s.servers[0].tls; },
    expect: ['spec.servers[0]', 'tls is required when port.protocol is HTTPS or TLS'],
  },
  {
    what: 'autoscaling with minReplicas above maxReplicas (CEL)',
    kind: 'Gateway',
    mutate: (s) => { s.deployment.autoscaling.minReplicas = 9; },
    expect: ['spec.deployment.autoscaling.minReplicas', 'minReplicas must not be greater than maxReplicas'],
  },
  // ---- ServiceEntry
  {
    what: 'STATIC resolution without endpoint addresses or workloadSelector (CEL)',
    kind: 'ServiceEntry',
    mutate: (s) => { delete s.workloadSelector; s.location = 'MESH_EXTERNAL'; s.endpoints = [{ ports: { grpc: 9080 } }]; },
    expect: ['spec.endpoints', 'resolution STATIC requires endpoints that all have an address, or a workloadSelector'],
  },
  {
    what: 'an unknown resolution (enum)',
    kind: 'ServiceEntry',
    mutate: (s) => { s.resolution = 'MAGIC'; },
    expect: ['spec.resolution', 'Unsupported value: "MAGIC"'],
  },
  {
    what: 'duplicate port numbers (CEL)',
    kind: 'ServiceEntry',
    mutate: (s) => { s.ports.push({ number: 9080, name: 'http', protocol: 'HTTP' }); },
    expect: ['spec.ports', 'port numbers must be unique'],
  },
  // ---- WorkloadEntry
  {
    what: 'an empty address (minLength)',
    kind: 'WorkloadEntry',
    mutate: (s) => { s.address = ''; },
    expect: ['spec.address', 'should be at least 1 chars long'],
  },
  {
    what: 'an address that is no IP, DNS name or socket (CEL)',
    kind: 'WorkloadEntry',
    mutate: (s) => { s.address = 'not an address!'; },
    expect: ['spec.address', 'must be an IP address, a DNS name or a unix:// socket path'],
  },
  // ---- MeshPolicy
  {
    what: 'a DENY authorization without rules (CEL)',
    kind: 'MeshPolicy',
    mutate: (s) => { s.authorization = { action: 'DENY' }; },
    expect: ['spec.authorization.rules', 'rules must not be empty when action is DENY'],
  },
  {
    what: 'an unknown mtls mode (enum)',
    kind: 'MeshPolicy',
    mutate: (s) => { s.mtls.mode = 'ON'; },
    expect: ['spec.mtls.mode', 'Unsupported value: "ON"', 'supported values: "STRICT", "PERMISSIVE", "DISABLE"'],
  },
  {
    what: 'a sampling percentage above 100 (range)',
    kind: 'MeshPolicy',
    mutate: (s) => { s.telemetry.tracing.samplingPercentage = 150; },
    expect: ['spec.telemetry.tracing.samplingPercentage', 'should be less than or equal to 100'],
  },
  {
    what: 'a burst below requestsPerUnit (CEL)',
    kind: 'MeshPolicy',
    mutate: (s) => { s.rateLimit.burst = 10; },
    expect: ['spec.rateLimit.burst', 'burst must be at least requestsPerUnit'],
  },
  {
    what: 'an empty spec (CEL)',
    kind: 'MeshPolicy',
    mutate: (s) => { for (const k of Object.keys(s)) delete s[k]; },
    expect: ['spec', 'at least one of mtls, portLevelMtls, authorization, rateLimit or telemetry must be set'],
  },
  {
    what: 'portLevelMtls without a selector (CEL, as Istio)',
    kind: 'MeshPolicy',
    mutate: (s) => { delete s.selector; s.portLevelMtls = { '8080': { mode: 'DISABLE' } }; },
    expect: ['spec.portLevelMtls', "portLevelMtls needs a selector (port numbers are a workload's)"],
  },
  {
    what: "a JWT condition (Weft has no RequestAuthentication)",
    kind: 'MeshPolicy',
    mutate: (s) => { s.authorization = { action: 'ALLOW', rules: [{ when: [{ key: 'request.auth.claims[group]', values: ['admin'] }] }] }; },
    expect: ['spec.authorization.rules[0].when[0].key', 'should match'],
  },
  // ---- What Istio refuses, Weft refuses too (Istio's validation of ServiceEntry and WorkloadEntry)
  {
    what: "host '*' (CEL, as Istio)",
    kind: 'ServiceEntry',
    mutate: (s) => { s.hosts = ['*']; },
    expect: ['spec.hosts', "a ServiceEntry cannot declare every host ('*')"],
  },
  {
    what: 'resolution NONE with endpoints (CEL, as Istio)',
    kind: 'ServiceEntry',
    mutate: (s) => { delete s.workloadSelector; s.resolution = 'NONE'; s.endpoints = [{ address: '127.0.0.2' }]; },
    expect: ['spec.endpoints', 'resolution NONE takes no endpoints'],
  },
  {
    what: 'DNS_ROUND_ROBIN with two endpoints (CEL, as Istio)',
    kind: 'ServiceEntry',
    mutate: (s) => { delete s.workloadSelector; s.resolution = 'DNS_ROUND_ROBIN'; s.endpoints = [{ address: 'a.example.com' }, { address: 'b.example.com' }]; },
    expect: ['spec.endpoints', 'resolution DNS_ROUND_ROBIN takes at most one endpoint'],
  },
  {
    what: 'a CIDR address with DNS resolution (CEL, as Istio)',
    kind: 'ServiceEntry',
    mutate: (s) => { delete s.workloadSelector; s.resolution = 'DNS'; s.addresses = ['10.0.0.0/24']; },
    expect: ['spec.addresses', 'CIDR addresses are allowed only with resolution NONE or STATIC'],
  },
  {
    what: 'a unix socket path that is a directory (CEL, as Istio)',
    kind: 'WorkloadEntry',
    mutate: (s) => { s.address = 'unix:///var/run/'; },
    expect: ['spec.address', 'unix:///var/run/app.sock'],
  },
  {
    what: 'a relative unix socket path (CEL, as Istio)',
    kind: 'WorkloadEntry',
    mutate: (s) => { s.address = 'unix://relative.sock'; },
    expect: ['spec.address', 'must be an IP address, a DNS name or a unix:// socket path'],
  },
  {
    what: 'neither address nor network (CEL)',
    kind: 'WorkloadEntry',
    mutate: (s) => { delete s.address; },
    expect: ['spec.address', 'address is required unless network is set'],
  },
];

/** What Istio accepts, Weft accepts too. */
const valid: Array<{ what: string; kind: MeshKind; mutate: (spec: Json) => void }> = [
  {
    what: 'warmup, http2KeepAlive and the deprecated minimumRingSize (refused as unknown fields before)',
    kind: 'DestinationRule',
    mutate: (s) => {
      s.trafficPolicy = {
        loadBalancer: { simple: 'ROUND_ROBIN', warmup: { duration: '30s', minimumPercent: 10, aggression: 1.5 } },
        connectionPool: { http: { http2KeepAlive: { interval: '10s', timeout: '3s' } } },
        tunnel: { protocol: 'CONNECT', targetHost: '10.0.0.1', targetPort: 3128 },
      };
      s.subsets[0].trafficPolicy = { loadBalancer: { consistentHash: { httpHeaderName: 'x-user', minimumRingSize: 1024 } } };
    },
  },
  {
    what: 'statPrefix, retryIgnorePreviousHosts and a redirect prefixRewrite',
    kind: 'VirtualService',
    mutate: (s) => {
      s.http[0].match[0].statPrefix = 'reviews';
      s.http[0].retries = { attempts: 2, retryIgnorePreviousHosts: true };
      s.http.push({ match: [{ uri: { prefix: '/old' } }], redirect: { prefixRewrite: '/new' } });
    },
  },
  {
    what: "Istio's protocol names in any case (its samples write tcp; gRPC-Web, Redis and MySQL too)",
    kind: 'ServiceEntry',
    mutate: (s) => {
      s.ports = [...s.ports, { number: 22, name: 'ssh', protocol: 'tcp' }, { number: 8080, name: 'web', protocol: 'GRPC-Web' }, { number: 6379, name: 'redis', protocol: 'Redis' }, { number: 3306, name: 'mysql', protocol: 'mysql' }];
    },
  },
  {
    what: "Istio's presence matches: an empty StringMatch for a header, a missing header and a query parameter, and the header regex *",
    kind: 'VirtualService',
    mutate: (s) => { s.http[0].match[0] = { headers: { 'x-canary': {}, 'x-debug': { regex: '*' } }, withoutHeaders: { 'x-legacy': {} }, queryParams: { trace: {} } }; },
  },
  {
    what: "an empty port protocol (Istio's protocol sniffing) and port and subset names in upper case, as Istio's IsDNS1123Label allows",
    kind: 'ServiceEntry',
    mutate: (s) => { s.ports = [...s.ports, { number: 8443, name: 'HTTPS', protocol: '' }]; },
  },
  { what: 'a subset name in upper case', kind: 'DestinationRule', mutate: (s) => { s.subsets[0].name = 'V1'; } },
  { what: 'a lower-case https server with its tls block', kind: 'Gateway', mutate: (s) => { s.servers[0].port.protocol = 'https'; } },
  { what: 'a workloadSelector with location MESH_EXTERNAL', kind: 'ServiceEntry', mutate: (s) => { s.location = 'MESH_EXTERNAL'; } },
  { what: 'an empty workloadSelector (every WorkloadEntry of the namespace)', kind: 'ServiceEntry', mutate: (s) => { s.workloadSelector = {}; } },
  { what: 'only a network, no address (a workload on another network)', kind: 'WorkloadEntry', mutate: (s) => { delete s.address; s.network = 'vpc-2'; } },
];

describe('the weft.dev CRDs on the API server', () => {
  it.each(invalid.map((c) => [`${c.kind}: ${c.what}`, c] as const))('rejects %s', async (_name, c) => {
    const object = sample(c.kind);
    object.metadata.name = 'invalid';
    c.mutate(object.spec);
    const rejection = await tryCreate(ns.name, object);
    expect(rejection).toBeDefined();
    expect(rejection!.code).toBe(c.code ?? 422);
    for (const part of c.expect) expect(rejection!.message).toContain(part);
  });

  it.each(valid.map((c) => [`${c.kind}: ${c.what}`, c] as const))('accepts %s, as Istio does', async (_name, c) => {
    const object = sample(c.kind);
    object.metadata.name = 'valid';
    c.mutate(object.spec);
    expect(await tryCreate(ns.name, object)).toBeUndefined();
  });

  it('accepts every sample and lists them with kubectl get weft', async () => {
    for (const object of samples) {
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns.name,
        plural: resources[object.kind as MeshKind].plural,
        body: { ...object, metadata: { ...object.metadata, namespace: ns.name } },
        fieldManager: FIELD_MANAGER,
        fieldValidation: 'Strict',
      });
    }
    // Status goes through the status subresource; the printer columns read it.
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns.name,
        plural: resources.VirtualService.plural,
        name: 'reviews',
        body: {
          status: {
            observedGeneration: 1,
            conditions: [{ type: 'Ready', status: 'True', reason: 'Programmed', message: 'sent to 2 proxies', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), observedGeneration: 1 }],
            proxies: { acked: 2, expected: 2 },
            synced: '2/2',
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );

    const cacheDir = mkdtempSync(join(tmpdir(), 'weft-kubectl-cache-'));
    const kubectl = (...args: string[]) =>
      execFileSync(kubectlPath(), [...args, '-n', ns.name, '--cache-dir', cacheDir], { env: process.env, encoding: 'utf8' });
    const readStatus = async () =>
      JSON.stringify(
        ((await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: resources.VirtualService.plural, name: 'reviews' })) as Json)
          .status ?? {},
      );
    try {
      // A Weft operator running against this cluster may rewrite the status meanwhile: compare kubectl's columns with
      // the status read just before and after it.
      const out = await eventually('kubectl get weft to print the VirtualService status columns', async () => {
        const before = await readStatus();
        const text = kubectl('get', 'weft');
        const after = await readStatus();
        if (before !== after) return undefined;
        const status = JSON.parse(after) as Json;
        const ready = (status.conditions as Json[] | undefined)?.find((c) => c.type === 'Ready');
        const line = text.split('\n').find((l) => l.startsWith(`virtualservice.${GROUP}/reviews `)) ?? '';
        // NAME HOSTS READY REASON SYNCED AGE
        const columns = line.trim().split(/\s+/).slice(-4, -1);
        return JSON.stringify(columns) === JSON.stringify([ready?.status ?? '<none>', ready?.reason ?? '<none>', status.synced ?? '<none>']) ? text : undefined;
      }, 20_000);
      for (const object of samples) {
        expect(out).toContain(`${resources[object.kind as MeshKind].singular}.${GROUP}/${object.metadata.name}`);
      }
      expect(out).toMatch(/workloadentry\.weft\.dev\/reviews-v1\s+127\.0\.0\.2\s/); // the Address column
      expect(kubectl('get', 'wvs,wdr,wgw,wse,wwe,wmp', '-o', 'name').trim().split('\n').sort()).toEqual(
        samples.map((o) => `${resources[o.kind as MeshKind].singular}.${GROUP}/${o.metadata.name}`).sort(),
      );
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('defaults the Gateway deployment serviceType to LoadBalancer', async () => {
    const gateway = sample('Gateway');
    gateway.metadata.name = 'defaulted';
    delete gateway.spec.deployment.serviceType;
    const created = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns.name,
      plural: resources.Gateway.plural,
      body: { ...gateway, metadata: { ...gateway.metadata, namespace: ns.name } },
      dryRun: 'All',
    })) as Json;
    expect(created.spec.deployment.serviceType).toBe('LoadBalancer');
  });
});
