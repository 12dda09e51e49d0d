// 500 invalid updates of the samples (seeded, reproducible: WEFT_FUZZ_SEED), each made to a live sample object
// through the API server: every one is refused at admission or reported Accepted=False naming the field, and what
// the proxies are served (a proxyless client's and the gateway proxy's config dump) is byte-identical before and
// after: the last accepted generation of every object keeps serving.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { GROUP, VERSION, resources, type MeshKind } from '../../src/api/index.js';
import { mutations, type Mutation } from './fuzz/mutations.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, operatorKubeconfig, repoRoot, startOperator, type RunningOperator } from './operator.js';
import { XdsClient } from './xds/clients.js';
import { GatewayProxy } from './xds/gateway-proxy.js';
import { apply, type Obj } from './xds/mesh.js';

type Json = Record<string, any>;
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 20261202);
const COUNT = 500;

const kc = kubeConfig();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let debugPort: number;
let xdsPort: number;
let client: XdsClient;
let gateway: GatewayProxy;

/** The samples retargeted to `namespace` (names, hosts and references alike). */
function samplesIn(namespace: string): Json[] {
  const dir = join(repoRoot, 'config', 'samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => YAML.parseAllDocuments(readFileSync(join(dir, f), 'utf8').replaceAll('weft-demo', namespace)).map((d) => d.toJS() as Json))
    .filter((o) => o.kind !== 'Namespace');
}

/** What two proxies are served, as the debug endpoint dumps it: resource names, versions, sources and content. */
async function servedConfig(): Promise<string> {
  const dump = async (id: string) => {
    const res = await fetch(`http://127.0.0.1:${debugPort}/debug/config_dump?proxy=${encodeURIComponent(id)}`);
    const [proxy] = (await res.json()) as Array<{ resources: Array<{ typeUrl: string; name: string; version: string; sources: Array<{ namespace: string }>; config: unknown }> }>;
    // What this namespace's objects make (a gateway proxy also holds every other namespace's clusters, which other
    // suites' namespaces, still being deleted, may move meanwhile).
    return proxy!.resources
      .filter((r) => r.sources.some((s) => s.namespace === ns.name))
      .map(({ typeUrl, name, version, sources, config }) => ({ typeUrl, name, version, sources, config }))
      .sort((a, b) => `${a.typeUrl}/${a.name}`.localeCompare(`${b.typeUrl}/${b.name}`));
  };
  return JSON.stringify({ proxyless: await dump('fuzz-client'), gateway: await dump(`router~${ns.name}~reviews-gateway~fuzz-0`) });
}

interface Outcome {
  mutation: Mutation;
  how: 'admission' | 'status' | 'not refused';
  message: string;
}

/** Replaces the live object's spec with the mutation's; the API server's refusal, or the operator's verdict. */
async function attempt(m: Mutation, name: string): Promise<Outcome> {
  const plural = resources[m.kind as MeshKind].plural;
  let stored: Json | undefined;
  while (!stored) {
    const current = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural, name })) as Json;
    try {
      stored = (await custom.replaceNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns.name,
        plural,
        name,
        body: { ...current, spec: m.spec },
        fieldValidation: 'Strict',
      })) as Json;
    } catch (err) {
      if (!(err instanceof k8s.ApiException)) throw err;
      if (err.code === 409) continue; // the operator wrote status meanwhile: read again
      const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Json) : (err.body as Json);
      return { mutation: m, how: 'admission', message: String(body.message ?? err.message) };
    }
  }
  const generation = stored.metadata.generation as number;
  const accepted = await eventually(`${m.kind} ${name} generation ${generation} judged`, async () => {
    const obj = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural, name })) as Json;
    const c = (obj.status?.conditions as Json[] | undefined)?.find((x) => x.type === 'Accepted');
    return c && c.observedGeneration === generation ? c : undefined;
  }, 30_000, 50);
  return { mutation: m, how: accepted.status === 'False' ? 'status' : 'not refused', message: `${accepted.reason}: ${accepted.message}` };
}

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'fuzz');
  const kubeconfig = await operatorKubeconfig(kc);
  xdsPort = await freePort();
  debugPort = await freePort();
  operator = await startOperator(kubeconfig, 'fuzz-operator', [`--xds-port=${xdsPort}`, `--xds-debug-port=${debugPort}`]);
  await eventually('the operator to lead', async () => ((await operator.metric('leader_election_master_status')) === 1 ? true : undefined), 60_000);
}, 120_000);

afterAll(async () => {
  gateway?.close();
  await client?.stop();
  await operator?.stop();
  await ns?.remove();
});

describe('fuzzing the samples with invalid updates', () => {
  it(`refuses each of ${COUNT} invalid updates naming the field, and the served config stays byte-identical`, async () => {
    const samples = samplesIn(ns.name);
    apply(ns.name, ...(samples as Obj[]));
    const mesh = samples.filter((o) => o.apiVersion === `${GROUP}/${VERSION}`);
    for (const o of mesh) {
      await eventually(`${o.kind} ${o.metadata.name} Accepted`, async () => {
        const obj = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: resources[o.kind as MeshKind].plural, name: o.metadata.name })) as Json;
        return (obj.status?.conditions as Json[] | undefined)?.some((c) => c.type === 'Accepted' && c.status === 'True' && c.observedGeneration === obj.metadata.generation) ? true : undefined;
      }, 60_000);
    }

    // Two proxies: a proxyless client of the reviews service and the gateway's proxy.
    client = await XdsClient.start({ xdsPort, target: `reviews.${ns.name}.svc.cluster.local:9080`, nodeId: 'fuzz-client' });
    await client.run(1, { deadlineMs: 500 }); // dials: its listener, routes, clusters and endpoints are requested
    gateway = GatewayProxy.connect(`127.0.0.1:${xdsPort}`, `router~${ns.name}~reviews-gateway~fuzz-0`);
    const before = await eventually('both proxies to hold their config', async () => {
      const text = await servedConfig().catch(() => undefined);
      if (!text) return undefined;
      const parsed = JSON.parse(text) as { proxyless: Array<{ typeUrl: string }>; gateway: Array<{ typeUrl: string }> };
      const has = (list: Array<{ typeUrl: string }>, type: string) => list.some((r) => r.typeUrl.endsWith(type));
      const complete = ['Listener', 'RouteConfiguration', 'Cluster', 'ClusterLoadAssignment'].every((t) => has(parsed.proxyless, t)) && has(parsed.gateway, 'Listener') && has(parsed.gateway, 'Secret');
      return complete ? text : undefined;
    }, 60_000);

    // One lane per object: its mutations in order, the lanes side by side.
    const all = mutations(mesh, SEED, COUNT);
    const lanes = new Map<string, Mutation[]>();
    for (const m of all) lanes.set(m.kind, [...(lanes.get(m.kind) ?? []), m]);
    const nameOf = (kind: string) => mesh.find((o) => o.kind === kind)!.metadata.name as string;
    const started = Date.now();
    const outcomes = (await Promise.all([...lanes].map(async ([kind, list]) => {
      const done: Outcome[] = [];
      for (const m of list) done.push(await attempt(m, nameOf(kind)));
      return done;
    }))).flat();
    const seconds = (Date.now() - started) / 1000;

    const notRefused = outcomes.filter((o) => o.how === 'not refused').map((o) => `${o.mutation.kind}: ${o.mutation.what} (${o.mutation.field}) -> ${o.message}`);
    expect(notRefused).toEqual([]);
    const unnamed = outcomes.filter((o) => !o.message.includes(o.mutation.field)).map((o) => `${o.mutation.kind}: ${o.mutation.what}: expected ${o.mutation.field} in: ${o.message}`);
    expect(unnamed).toEqual([]);
    const after = await servedConfig();
    if (after !== before) {
      const index = (text: string) => new Map(Object.values(JSON.parse(text) as Record<string, Array<{ typeUrl: string; name: string; version: string }>>).flat().map((r) => [`${r.typeUrl} ${r.name}`, r.version]));
      const [b, a] = [index(before), index(after)];
      const differing = [...new Set([...b.keys(), ...a.keys()])].filter((k) => b.get(k) !== a.get(k)).map((k) => `${k}: ${b.get(k) ?? 'absent'} -> ${a.get(k) ?? 'absent'}`);
      expect(differing).toEqual([]);
    }
    expect(after).toBe(before);

    const byKind = Object.fromEntries([...lanes.keys()].map((kind) => {
      const of = outcomes.filter((o) => o.mutation.kind === kind);
      return [kind, { admission: of.filter((o) => o.how === 'admission').length, status: of.filter((o) => o.how === 'status').length }];
    }));
    // The figures docs/api.md quotes: how many were refused where, and how long the run took.
    console.log(`fuzz seed ${SEED}: ${COUNT} invalid updates in ${seconds.toFixed(1)} s; refused at admission ${outcomes.filter((o) => o.how === 'admission').length}, Accepted=False ${outcomes.filter((o) => o.how === 'status').length}; by kind ${JSON.stringify(byKind)}; served config byte-identical (${before.length} bytes)`);
  }, 600_000);
});
