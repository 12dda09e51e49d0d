// VirtualService delegation with real traffic: the operator (dist/main.js, as its own ServiceAccount, --xds-port)
// configures @grpc/grpc-js-xds clients; grpc-js backends on 127.0.0.x are WorkloadEntries. A root VirtualService in
// one namespace delegates its /weft.test.Echo/ prefix to a delegate VirtualService in another; the delegate's header
// routes carry the RPCs, and an edit of the delegate alone moves them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, startLeader, type RunningOperator } from './operator.js';
import { startBackend, type Backend } from './xds/backends.js';
import { tearDown } from './xds/teardown.js';
import { tally, XdsClient } from './xds/clients.js';
import { apply, destinationRule, remove, serviceAccount, serviceEntry, statusOf, waitForCondition, workloadEntry, type Obj } from './xds/mesh.js';

const kc = kubeConfig();
let app: { name: string; remove: () => Promise<void> };
let team: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let xdsPort: number;
const backends: Backend[] = [];
const clients: XdsClient[] = [];

const delegate = (name: string, http: unknown[]): Obj => ({ kind: 'VirtualService', metadata: { name }, spec: { http } });

beforeAll(async () => {
  installManifests();
  app = await throwawayNamespace(kc, 'deleg-app');
  team = await throwawayNamespace(kc, 'deleg-team');
  apply(app.name, serviceAccount('workload'));
  xdsPort = await freePort();
  operator = await startLeader(kc, 'delegation-operator', [`--xds-port=${xdsPort}`]);
}, 120_000);

afterAll(() => tearDown({ clients, operator, backends, namespaces: [app, team] }));

describe('VirtualService delegation, with real grpc-js-xds clients', () => {
  it("routes a delegated prefix by the delegate's header routes; an edit of the delegate alone changes the traffic", async () => {
    const host = `shop.${app.name}.svc.cluster.local`;
    const [v1, v2, other] = await Promise.all([startBackend('shop-v1', '127.0.0.81'), startBackend('shop-v2', '127.0.0.82'), startBackend('shop-other', '127.0.0.83')]);
    backends.push(v1, v2, other);
    const root: Obj = {
      kind: 'VirtualService',
      metadata: { name: 'shop' },
      spec: {
        hosts: [host],
        http: [
          { name: 'echo', match: [{ uri: { prefix: '/weft.test.Echo/' } }], delegate: { name: 'shop-echo', namespace: team.name } },
          { name: 'rest', route: [{ destination: { host, subset: 'other' } }] },
        ],
      },
    };
    apply(
      app.name,
      serviceEntry('shop', host),
      workloadEntry('shop-v1', v1, { app: 'shop', version: 'v1' }, 'workload'),
      workloadEntry('shop-v2', v2, { app: 'shop', version: 'v2' }, 'workload'),
      workloadEntry('shop-other', other, { app: 'shop', version: 'other' }, 'workload'),
      destinationRule('shop', host, { subsets: ['v1', 'v2', 'other'].map((v) => ({ name: v, labels: { version: v } })) }),
      root,
    );
    // The root exists before its delegate: it is accepted, serves its other route, and names the missing delegate.
    const missing = await waitForCondition(app.name, 'VirtualService', 'shop', 'ResolvedRefs', 'False');
    expect(missing.conditions?.find((c) => c.type === 'ResolvedRefs')).toMatchObject({
      reason: 'DelegateNotFound',
      message: expect.stringContaining(`spec.http[0].delegate: delegate VirtualService ${team.name}/shop-echo not found`),
    });
    expect(missing.conditions?.find((c) => c.type === 'Accepted')?.status).toBe('True');
    const c = await XdsClient.start({ xdsPort, target: `${host}:9080`, nodeId: 'delegation-client' });
    clients.push(c);
    await eventually('the root to serve its own route', async () => {
      const results = await c.run(10, { concurrency: 2 });
      return results.every((r) => r.backend === 'shop-other') ? true : undefined;
    }, 60_000, 500);

    // The delegate, in another namespace: canaries to v2, everyone else to v1.
    const fqdn = host; // the delegate's destinations name the service fully: short names resolve in its own namespace
    apply(
      team.name,
      delegate('shop-echo', [
        { name: 'canary', match: [{ headers: { 'x-user': { exact: 'canary' } } }], route: [{ destination: { host: fqdn, subset: 'v2' } }] },
        { name: 'stable', route: [{ destination: { host: fqdn, subset: 'v1' } }] },
      ]),
    );
    await waitForCondition(app.name, 'VirtualService', 'shop', 'ResolvedRefs', 'True');
    await eventually('the delegate routes to carry the prefix', async () => {
      const results = await c.run(10, { concurrency: 2, metadata: { 'x-user': 'canary' } });
      return results.every((r) => r.backend === 'shop-v2') ? true : undefined;
    }, 30_000, 200);
    expect(tally(await c.run(100, { concurrency: 4, metadata: { 'x-user': 'canary' } }))).toEqual({ 'shop-v2': 100 });
    expect(tally(await c.run(100, { concurrency: 4, metadata: { 'x-user': 'someone' } }))).toEqual({ 'shop-v1': 100 });
    // Outside the delegated prefix the root's own route still applies.
    expect(tally(await c.run(50, { concurrency: 4, path: '/weft.test.Other/Call', metadata: { 'x-user': 'canary' } }))).toEqual({ 'shop-other': 50 });

    // The delegate's status says who uses it; it is Programmed through the root's routes.
    const used = await waitForCondition(team.name, 'VirtualService', 'shop-echo', 'Programmed', 'True');
    expect(used.conditions?.find((x) => x.type === 'Accepted')?.message).toContain(`used by VirtualService ${app.name}/shop (spec.http[0].delegate)`);

    // Only the delegate changes: canaries now go to v1, the rest to v2.
    const rootGeneration = statusOf(app.name, 'VirtualService', 'shop').generation;
    apply(
      team.name,
      delegate('shop-echo', [
        { name: 'canary', match: [{ headers: { 'x-user': { exact: 'canary' } } }], route: [{ destination: { host: fqdn, subset: 'v1' } }] },
        { name: 'stable', route: [{ destination: { host: fqdn, subset: 'v2' } }] },
      ]),
    );
    await eventually('the edited delegate to move the traffic', async () => {
      const results = await c.run(10, { concurrency: 2, metadata: { 'x-user': 'canary' } });
      return results.every((r) => r.backend === 'shop-v1') ? true : undefined;
    }, 30_000, 200);
    expect(tally(await c.run(100, { concurrency: 4, metadata: { 'x-user': 'canary' } }))).toEqual({ 'shop-v1': 100 });
    expect(tally(await c.run(100, { concurrency: 4 }))).toEqual({ 'shop-v2': 100 });
    expect(statusOf(app.name, 'VirtualService', 'shop').generation).toBe(rootGeneration);

    // A delegate exported away from the root's namespace stops serving it, and the root says why.
    apply(team.name, { ...delegate('shop-echo', [{ route: [{ destination: { host: fqdn, subset: 'v2' } }] }]), spec: { exportTo: ['.'], http: [{ route: [{ destination: { host: fqdn, subset: 'v2' } }] }] } });
    await waitForCondition(app.name, 'VirtualService', 'shop', 'ResolvedRefs', 'False', (s) => s.conditions?.some((x) => x.reason === 'DelegateNotExported') ?? false);
    await eventually('the unexported delegate to stop carrying the prefix', async () => {
      const results = await c.run(10, { concurrency: 2 });
      return results.every((r) => r.backend === 'shop-other') ? true : undefined;
    }, 30_000, 200);

    remove(team.name, 'VirtualService', 'shop-echo');
  });

  it('refuses a delegate with hosts-only fields and a root route that also routes, naming the field', () => {
    const refused = (namespace: string, obj: Obj): string => {
      try {
        apply(namespace, obj);
        return '';
      } catch (err) {
        return String((err as { stderr?: Buffer }).stderr ?? err);
      }
    };
    expect(refused(team.name, { kind: 'VirtualService', metadata: { name: 'bad-delegate' }, spec: { gateways: ['edge'], http: [{ route: [{ destination: { host: 'x' } }] }] } })).toContain(
      'a delegate VirtualService (no hosts) must not set gateways',
    );
    expect(refused(team.name, { kind: 'VirtualService', metadata: { name: 'nested' }, spec: { http: [{ delegate: { name: 'deeper' } }] } })).toContain(
      'cannot delegate: one level of delegation only',
    );
    expect(
      refused(app.name, { kind: 'VirtualService', metadata: { name: 'both' }, spec: { hosts: ['both'], http: [{ delegate: { name: 'd' }, route: [{ destination: { host: 'x' } }] }] } }),
    ).toContain('spec.http[0].delegate: Invalid value');
  });
});
