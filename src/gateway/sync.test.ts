// Converging generated objects against a fake API server whose state doubles as a perfectly fresh cache.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Gateway } from '../api/index.js';
import { FakeApiServer } from '../controllers/fake-api-server.js';
import { RestClient, type KubeObject } from '../controllers/index.js';
import { renderGateway } from './chart.js';
import type { GeneratedInformers } from './informers.js';
import { GENERATED_KINDS, generatedResources, type GeneratedKind } from './resources.js';
import { syncGeneratedObjects } from './sync.js';

const gw: Gateway = {
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Gateway',
  metadata: { name: 'edge', namespace: 'shop', uid: 'uid-1', generation: 1 },
  spec: { selector: { app: 'edge' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }], deployment: {} },
};

const collection = (kind: GeneratedKind) => {
  const r = generatedResources[kind];
  return r.group ? `${r.group}/${r.version}/${r.plural}` : `${r.version}/${r.plural}`;
};

let server: FakeApiServer;
let client: RestClient;
let informers: GeneratedInformers;
const sync = (g: Gateway) => syncGeneratedObjects(g, renderGateway(g), { client, informers, signal: new AbortController().signal });
const writes = () => server.requests.filter((r) => r.method !== 'GET');

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  client = new RestClient(server.access());
  // Only what carries the gateway-name label is cached, like the real label-selected informers.
  const labelled = (o: KubeObject | undefined) => (o?.metadata?.labels?.['weft.dev/gateway-name'] ? o : undefined);
  informers = Object.fromEntries(
    GENERATED_KINDS.map((kind) => [
      kind,
      {
        get: (ns: string, name: string) => labelled(server.get(collection(kind), ns, name)),
        list: (ns: string) => server.list(collection(kind)).filter((o) => o.metadata?.namespace === ns && labelled(o)),
      },
    ]),
  ) as unknown as GeneratedInformers;
});
afterEach(async () => {
  await client.close();
  await server.close();
});

describe('syncGeneratedObjects', () => {
  it('creates what is missing, then leaves it alone while it holds what was applied', async () => {
    expect(await sync(gw)).toMatchObject({
      created: [{ kind: 'ServiceAccount', name: 'edge' }, { kind: 'Deployment', name: 'edge' }, { kind: 'Service', name: 'edge' }],
      updated: [],
      blocked: [],
    });
    // The API server adds defaults and status; none of that is a reason to apply again.
    const deployment = server.get('apps/v1/deployments', 'shop', 'edge')!;
    server.put('apps/v1/deployments', { ...deployment, spec: { ...(deployment as { spec: object }).spec, revisionHistoryLimit: 10 }, status: { replicas: 1 } });
    server.requests.length = 0;
    expect(await sync(gw)).toEqual({ created: [], updated: [], reverted: [], deleted: [], blocked: [] });
    expect(writes()).toEqual([]);
  });

  it('restores a field changed by someone else, and tells that apart from a spec change', async () => {
    await sync(gw);
    const deployment = server.get('apps/v1/deployments', 'shop', 'edge') as unknown as KubeObject & { spec: { replicas: number } };
    server.put('apps/v1/deployments', { ...deployment, spec: { ...deployment.spec, replicas: 7 } });
    expect((await sync(gw)).reverted).toEqual([{ kind: 'Deployment', name: 'edge' }]);
    expect((server.get('apps/v1/deployments', 'shop', 'edge') as { spec: { replicas: number } }).spec.replicas).toBe(1);

    const scaled = { ...gw, metadata: { ...gw.metadata, generation: 2 }, spec: { ...gw.spec, deployment: { replicas: 3 } } };
    expect((await sync(scaled)).updated).toEqual([{ kind: 'Deployment', name: 'edge' }]);
  });

  it('deletes what the spec no longer asks for', async () => {
    const withExtras = { ...gw, spec: { ...gw.spec, deployment: { podDisruptionBudget: { minAvailable: 1 }, autoscaling: { minReplicas: 1, maxReplicas: 2 } } } };
    await sync(withExtras);
    expect(server.get('policy/v1/poddisruptionbudgets', 'shop', 'edge')).toBeDefined();
    const result = await sync(gw);
    expect(result.deleted).toEqual(expect.arrayContaining([{ kind: 'PodDisruptionBudget', name: 'edge' }, { kind: 'HorizontalPodAutoscaler', name: 'edge' }]));
    expect(server.get('policy/v1/poddisruptionbudgets', 'shop', 'edge')).toBeUndefined();
    expect(server.get('autoscaling/v2/horizontalpodautoscalers', 'shop', 'edge')).toBeUndefined();
  });

  it('applies nothing when an object of one of the names belongs to someone else, even one the cache cannot see', async () => {
    server.put('v1/services', { metadata: { name: 'edge', namespace: 'shop' }, spec: { selector: { app: 'theirs' } } });
    server.requests.length = 0;
    const result = await sync(gw);
    expect(result.blocked).toEqual([{ kind: 'Service', name: 'edge', message: 'Service edge already exists and was not created by Weft; Weft does not take it over: delete or rename it, or rename the Gateway' }]);
    expect(result.created).toEqual([]);
    expect(writes()).toEqual([]);
    expect((server.get('v1/services', 'shop', 'edge') as { spec: object }).spec).toEqual({ selector: { app: 'theirs' } });
  });

  it('names a leftover of an earlier Gateway of the same name, which garbage collection will remove', async () => {
    await sync({ ...gw, metadata: { ...gw.metadata, uid: 'uid-0' } });
    const result = await sync(gw);
    expect(result.blocked.map((b) => b.message)).toContain(
      'ServiceAccount edge still belongs to an earlier Gateway of this name (uid uid-0); it is re-created once garbage collection removes it',
    );
  });
});
