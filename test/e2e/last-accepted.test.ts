// Bad input never changes what is served, with real grpc-js-xds traffic through the operator (dist/main.js, as its
// own ServiceAccount): a live 70/30 canary whose VirtualService update names a missing subset keeps splitting 70/30
// (its last accepted generation is served) across an operator restart and a leader change; a DestinationRule
// whose update breaks keeps its subsets; two VirtualServices for one host are told apart (oldest wins, the other
// is Conflicted); a regex RE2 refuses is reported naming the field.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, operatorKubeconfig, startOperator, type RunningOperator } from './operator.js';
import { startBackend, type Backend } from './xds/backends.js';
import { expectShare, tally, XdsClient } from './xds/clients.js';
import { apply, destinationRule, remove, serviceAccount, serviceEntry, split, statusOf, virtualService, waitForCondition, workloadEntry } from './xds/mesh.js';

const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
let kubeconfig: string;
const operators: RunningOperator[] = [];
const backends: Backend[] = [];
const clients: XdsClient[] = [];

const hostOf = (name: string) => `${name}.${ns.name}.svc.cluster.local`;

/** The replica later scenarios use: the last one started that still runs. */
let live: { op: RunningOperator; xdsPort: number } | undefined;

async function operator(identity: string, xdsPort: number): Promise<RunningOperator> {
  const op = await startOperator(kubeconfig, identity, [`--xds-port=${xdsPort}`]);
  operators.push(op);
  live = { op, xdsPort };
  return op;
}

/** A running, leading replica and its xDS port (one is started if the earlier scenario left none). */
async function leader(): Promise<number> {
  if (!live || live.op.process.exitCode !== null || live.op.process.signalCode !== null) await operator(`last-accepted-${operators.length}`, await freePort());
  await leading(live!.op);
  return live!.xdsPort;
}

async function leading(op: RunningOperator): Promise<void> {
  await eventually(`${op.identity} to lead`, async () => ((await op.metric('leader_election_master_status')) === 1 ? true : undefined), 60_000, 250);
}

/** A fresh client (no config cached from earlier): what it routes is what the operator on `xdsPort` serves now. */
async function freshClient(xdsPort: number, target: string, nodeId: string): Promise<XdsClient> {
  const c = await XdsClient.start({ xdsPort, target, nodeId });
  clients.push(c);
  await eventually('RPCs to succeed through xDS', async () => {
    const results = await c.run(20, { concurrency: 4, deadlineMs: 2000 });
    return results.every((r) => r.code === 0) ? true : undefined;
  }, 60_000, 500);
  return c;
}

/** 2000 RPCs: none fails, and `v1`'s share is `share` (see expectShare). */
async function expectSplit(c: XdsClient, v1: string, v2: string, share: number): Promise<void> {
  const counts = tally(await c.run(2000, { concurrency: 8 }));
  console.log(`split ${v1}/${v2}: ${JSON.stringify(counts)}`);
  expect(Object.keys(counts).sort()).toEqual([v1, v2].sort());
  expect(counts[v1]! + counts[v2]!).toBe(2000);
  expectShare(counts[v1]!, 2000, share);
}

/**
 * A service `name` whose v1 and v2 WorkloadEntries are real backends on `addresses`, with subsets v1/v2 and the
 * VirtualService `vsName` routing `split(host, v1, v2)`; resolves once that VirtualService is Programmed.
 */
async function versionedService(name: string, addresses: [string, string], vsName: string, weights: [number, number]): Promise<string> {
  const host = hostOf(name);
  const [v1, v2] = [await startBackend(`${name}-v1`, addresses[0]), await startBackend(`${name}-v2`, addresses[1])];
  backends.push(v1, v2);
  apply(
    ns.name,
    serviceEntry(name, host),
    workloadEntry(`${name}-v1`, v1, { app: name, version: 'v1' }, 'workload'),
    workloadEntry(`${name}-v2`, v2, { app: name, version: 'v2' }, 'workload'),
    destinationRule(name, host),
    virtualService(vsName, host, split(host, ...weights)),
  );
  await waitForCondition(ns.name, 'VirtualService', vsName, 'Programmed', 'True');
  return host;
}

function condition(kind: string, name: string, type: string) {
  return statusOf(ns.name, kind, name).status.conditions?.find((c) => c.type === type);
}

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'last-accepted');
  apply(ns.name, serviceAccount('workload'));
  kubeconfig = await operatorKubeconfig(kc);
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.stop();
  for (const op of operators) await op.stop();
  for (const b of backends) await b.stop();
  await ns?.remove();
});

describe('the last accepted generation keeps serving', () => {
  it('1. a canary update naming a missing subset: 70/30 stays, across an operator restart and a leader change; the fix is served', async () => {
    const xdsA = await freePort();
    let a = await operator('last-accepted-a', xdsA);
    await leading(a);
    const host = await versionedService('catalog', ['127.0.0.51', '127.0.0.52'], 'catalog', [70, 30]);
    const target = `${host}:9080`;
    const c = await freshClient(xdsA, target, 'catalog-client');
    await expectSplit(c, 'catalog-v1', 'catalog-v2', 0.7);

    // A typo: v9 does not exist. Accepted=False names the field; Programmed says generation 1 is still served.
    const bad = [{ route: [{ destination: { host, subset: 'v1' }, weight: 70 }, { destination: { host, subset: 'v9' }, weight: 30 }] }];
    apply(ns.name, virtualService('catalog', host, bad));
    await waitForCondition(ns.name, 'VirtualService', 'catalog', 'Accepted', 'False');
    const accepted = condition('VirtualService', 'catalog', 'Accepted')!;
    expect(accepted.reason).toBe('SubsetNotFound');
    expect(accepted.message).toContain('spec.http[0].route[1].destination.subset');
    const programmed = await waitForCondition(ns.name, 'VirtualService', 'catalog', 'Programmed', 'False', (s) =>
      s.conditions!.some((x) => x.type === 'Programmed' && x.reason === 'ServingLastAccepted'),
    );
    expect(programmed.conditions!.find((x) => x.type === 'Programmed')!.message).toContain('generation 2 is not accepted (see Accepted); generation 1, the last accepted, is served');
    const persisted = JSON.parse(kubectl('get', 'virtualservices.weft.dev', 'catalog', '-n', ns.name, '-o', 'jsonpath={.status.lastAccepted}')) as { generation: number; spec: unknown };
    expect(persisted.generation).toBe(1);
    // Events are written after the status they announce, through the recorder's own queue: wait for it, then check.
    const reasons = () => kubectl('get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.name=catalog', '-o', 'jsonpath={.items[*].reason}');
    await eventually('the ServingLastAccepted Event', async () => (reasons().includes('ServingLastAccepted') ? true : undefined), 30_000, 250).catch(() => undefined);
    expect(reasons()).toContain('ServingLastAccepted');
    await expectSplit(c, 'catalog-v1', 'catalog-v2', 0.7);

    // A restarted operator knows nothing but what the API server holds: it serves generation 1 from status.
    await a.stop();
    a = await operator('last-accepted-a2', xdsA);
    await leading(a);
    await expectSplit(await freshClient(xdsA, target, 'catalog-after-restart'), 'catalog-v1', 'catalog-v2', 0.7);

    // A leader change: a second replica serves the same, and keeps doing so once the leader is killed.
    const xdsB = await freePort();
    const b = await operator('last-accepted-b', xdsB);
    const onB = await freshClient(xdsB, target, 'catalog-on-b');
    await expectSplit(onB, 'catalog-v1', 'catalog-v2', 0.7);
    await a.stop('SIGKILL');
    await leading(b);
    await waitForCondition(ns.name, 'VirtualService', 'catalog', 'Programmed', 'False', (s) =>
      s.conditions!.some((x) => x.type === 'Programmed' && x.reason === 'ServingLastAccepted'),
    );
    await expectSplit(onB, 'catalog-v1', 'catalog-v2', 0.7);
    await expectSplit(await freshClient(xdsB, target, 'catalog-after-failover'), 'catalog-v1', 'catalog-v2', 0.7);

    // The fix is a new accepted generation, and it is served.
    apply(ns.name, virtualService('catalog', host, split(host, 0, 100)));
    await waitForCondition(ns.name, 'VirtualService', 'catalog', 'Programmed', 'True');
    await eventually('v2 to serve everything', async () => {
      const recent = tally(await onB.run(50, { concurrency: 4 }));
      return recent['catalog-v2'] === 50 ? true : undefined;
    }, 30_000, 200);
    expect(JSON.parse(kubectl('get', 'virtualservices.weft.dev', 'catalog', '-n', ns.name, '-o', 'jsonpath={.status.lastAccepted.generation}'))).toBe(statusOf(ns.name, 'VirtualService', 'catalog').generation);
  }, 420_000);

  it('2. a DestinationRule update that breaks its host keeps its subsets serving', async () => {
    const port = await leader();
    const host = await versionedService('stock', ['127.0.0.53', '127.0.0.54'], 'stock', [70, 30]);
    const c = await freshClient(port, `${host}:9080`, 'stock-client');
    await expectSplit(c, 'stock-v1', 'stock-v2', 0.7);

    // The rule now names a host nothing declares: not accepted, and its last accepted subsets stay in force.
    apply(ns.name, destinationRule('stock', hostOf('nowhere')));
    await waitForCondition(ns.name, 'DestinationRule', 'stock', 'Accepted', 'False');
    expect(condition('DestinationRule', 'stock', 'Accepted')!.reason).toBe('HostNotFound');
    await waitForCondition(ns.name, 'DestinationRule', 'stock', 'Programmed', 'False', (s) =>
      s.conditions!.some((x) => x.type === 'Programmed' && x.reason === 'ServingLastAccepted'),
    );
    await expectSplit(c, 'stock-v1', 'stock-v2', 0.7);
    await expectSplit(await freshClient(port, `${host}:9080`, 'stock-fresh'), 'stock-v1', 'stock-v2', 0.7);
  }, 240_000);
});

describe('conflicts and validation', () => {
  it('3. two VirtualServices for one host: the older routes, the newer is Conflicted naming it; deleting the older hands the host over', async () => {
    const port = await leader();
    const host = await versionedService('shelf', ['127.0.0.55', '127.0.0.56'], 'shelf-old', [100, 0]);
    // creationTimestamp has one-second resolution (a tie goes to namespace/name, as in Istio): be newer for sure.
    await new Promise((r) => setTimeout(r, 1100));
    apply(ns.name, virtualService('shelf-new', host, split(host, 0, 100)));
    const conflicted = await waitForCondition(ns.name, 'VirtualService', 'shelf-new', 'Programmed', 'False', (s) =>
      s.conditions!.some((x) => x.type === 'Programmed' && x.reason === 'Conflicted'),
    );
    expect(conflicted.conditions!.find((x) => x.type === 'Accepted')!.status).toBe('True');
    expect(conflicted.conditions!.find((x) => x.type === 'Programmed')!.message).toContain(`VirtualService ${ns.name}/shelf-old is older and already routes host ${host}`);
    const c = await freshClient(port, `${host}:9080`, 'shelf-client');
    expect(tally(await c.run(100, { concurrency: 4 }))).toEqual({ 'shelf-v1': 100 });

    remove(ns.name, 'VirtualService', 'shelf-old');
    await waitForCondition(ns.name, 'VirtualService', 'shelf-new', 'Programmed', 'True');
    await eventually('the newer VirtualService to route', async () => (tally(await c.run(50, { concurrency: 4 }))['shelf-v2'] === 50 ? true : undefined), 30_000, 200);
  }, 240_000);

  it('4. refuses regexes RE2 refuses, naming the field', async () => {
    const host = hostOf('shelf');
    const cases: Array<[string, string]> = [
      ['(unclosed', 'missing closing )'],
      ['(?=lookahead)', 'invalid or unsupported Perl syntax'],
      ['[z-a]', 'invalid character class range'],
    ];
    for (const [i, [pattern, why]] of cases.entries()) {
      const name = `regex-${i}`;
      apply(ns.name, { ...virtualService(name, host, [{ match: [{ uri: { regex: pattern } }], route: [{ destination: { host } }] }]), metadata: { name } });
      const s = await waitForCondition(ns.name, 'VirtualService', name, 'Accepted', 'False');
      const accepted = s.conditions!.find((x) => x.type === 'Accepted')!;
      expect(accepted.reason).toBe('InvalidRegex');
      expect(accepted.message).toContain('spec.http[0].match[0].uri.regex');
      expect(accepted.message).toContain(why);
    }
  });
});
