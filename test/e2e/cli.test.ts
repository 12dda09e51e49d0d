// `kubectl weft analyze` and `kubectl weft check` as a user runs them: the built CLI (node dist/main.js) as a child
// process, its output and exit status. analyze -f reads files offline; live analyze and check read this cluster.
// CRDs are cluster-wide: the check test removes Weft's CRDs first (whatever ran before) and installs them again, so
// the file passes in any order with the others.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, kubectlPath, operatorKubeconfig, repoRoot, startOperator, type RunningOperator } from './operator.js';

const kc = kubeConfig();
const fixtures = join(repoRoot, 'test', 'e2e', 'fixtures', 'analyze');

function weft(...args: string[]): { status: number; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(repoRoot, 'dist', 'main.js'), ...args], { encoding: 'utf8', env: process.env, timeout: 60_000 });
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

interface Diagnostic {
  code: string;
  severity: string;
  kind: string;
  namespace?: string;
  name: string;
  field?: string;
  message: string;
}

const found = (list: Diagnostic[], code: string, name: string) => list.filter((d) => d.code === code && d.name === name);

describe('kubectl weft analyze -f (offline)', () => {
  it('names each problem in invalid and conflicting objects, with its code, object and field, and exits 1', () => {
    const run = weft('analyze', '-f', fixtures, '-o', 'json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const list = JSON.parse(run.stdout) as Diagnostic[];
    const brief = (d: Diagnostic) => ({ code: d.code, severity: d.severity, kind: d.kind, field: d.field });
    expect(found(list, 'WEFT0102', 'reviews-split').map(brief)).toEqual([{ code: 'WEFT0102', severity: 'Error', kind: 'VirtualService', field: 'spec.http[0].route[1].destination.subset' }]);
    expect(found(list, 'WEFT0102', 'reviews-split')[0]!.message).toContain('subset v3 is not defined in DestinationRule shop/reviews');
    expect(found(list, 'WEFT0101', 'reviews-split').map((d) => d.field)).toEqual(['spec.http[1].route[0].destination.host']);
    expect(found(list, 'WEFT0003', 'ratings-typos').map((d) => [d.field, d.message])).toEqual([['spec.http[0].route[0].weight', 'must be <= 100']]);
    expect(found(list, 'WEFT0004', 'ratings-typos').map((d) => d.field)).toEqual(['spec.http[0].rout']);
    expect(found(list, 'WEFT0201', 'reviews-again').map(brief)).toEqual([{ code: 'WEFT0201', severity: 'Error', kind: 'DestinationRule', field: 'spec.host' }]);
    expect(found(list, 'WEFT0201', 'reviews-again')[0]!.message).toContain('DestinationRule shop/reviews is older');
    expect(found(list, 'WEFT0101', 'ghost').map((d) => d.field)).toEqual(['spec.host']);
    expect(found(list, 'WEFT0202', 'ghost').map((d) => d.severity)).toEqual(['Warning']);
    expect(found(list, 'WEFT0002', 'wrong-version').map((d) => d.field)).toEqual(['apiVersion']);
    expect(found(list, 'WEFT0401', 'strict').map((d) => d.field)).toEqual(['spec.mtls.mode']);
    expect(found(list, 'WEFT0401', 'strict')[0]!.message).toContain('Deployment legacy/client has no sidecar and calls ratings.shop.svc.cluster.local (env RATINGS_ADDR');
    expect(found(list, 'WEFT0301', 'ratings-old').map((d) => [d.kind, d.namespace, d.field])).toEqual([['Pod', 'shop', 'spec.containers']]);
    // Valid objects are not reported as wrong.
    expect(list.filter((d) => d.severity === 'Error' && ['reviews', 'ratings'].includes(d.name))).toEqual([]);
  });

  it('prints a table with the code, severity, object, field and message', () => {
    const run = weft('analyze', '-f', join(fixtures, '02-problems.yaml'), join(fixtures, '01-context.yaml'));
    expect(run.status).toBe(1);
    const header = run.stdout.split('\n')[0]!;
    expect(header.split(/\s{2,}/)).toEqual(['CODE', 'SEVERITY', 'OBJECT', 'FIELD', 'MESSAGE']);
    expect(run.stdout).toMatch(/WEFT0102 +Error +VirtualService shop\/reviews-split \(.*02-problems\.yaml:3\) +spec\.http\[0\]\.route\[1\]\.destination\.subset +subset v3/);
  });

  it('exits 0 on a clean mesh (config/samples), and --failure-threshold Info makes its notes fail', () => {
    const run = weft('analyze', '-f', join(repoRoot, 'config', 'samples'), '-o', 'yaml');
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain('severity: Error');
    expect(run.stdout).not.toContain('severity: Warning');
    expect(weft('analyze', '-f', join(repoRoot, 'config', 'samples'), '--output-threshold', 'Warning').stdout).toContain('✔ No problems found in 8 file(s).');
    expect(weft('analyze', '-f', join(repoRoot, 'config', 'samples'), '--failure-threshold', 'Info').status).toBe(1);
  });

  it("says Istio's YAML is Istio's and checks it as ported: a consistent mesh has only those warnings, exit 0", () => {
    const run = weft('analyze', '-f', join(repoRoot, 'test', 'e2e', 'fixtures', 'analyze-istio'), '-o', 'json');
    expect(run.status).toBe(0);
    const list = JSON.parse(run.stdout) as Diagnostic[];
    expect(list.filter((d) => d.severity !== 'Info').map((d) => `${d.code} ${d.kind} ${d.name}`).sort()).toEqual(['WEFT0005 DestinationRule reviews', 'WEFT0005 VirtualService reviews']);
  });

  it('refuses a bad flag value, naming the flag', () => {
    const run = weft('analyze', '-f', fixtures, '--failure-threshold', 'Fatal');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('--failure-threshold: expected one of Error, Warning, Info, got Fatal');
  });
});

describe('kubectl weft check, then live analyze', () => {
  let operator: RunningOperator | undefined;
  let ns: { name: string; remove: () => Promise<void> } | undefined;

  beforeAll(() => {
    // Before the CRDs are installed, whatever test ran before this one.
    kubectl('delete', 'crd', '-l', 'app.kubernetes.io/part-of=weft', '--ignore-not-found', '--wait=true');
  });

  afterAll(async () => {
    await operator?.stop();
    await ns?.remove();
  });

  it('passes --pre-install on a fresh cluster', () => {
    const run = weft('check', '--pre-install');
    expect(run.stdout).toContain('✔ Kubernetes v1.');
    expect(run.stdout).toContain('✔ you may do all');
    expect(run.stdout).toContain("✔ no other CRD claims Weft's names");
    expect(run.status).toBe(0);
  });

  it('fails before the CRDs are installed, with the hint to install them', () => {
    const run = weft('check');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('✖ CRD virtualservices.weft.dev is not installed\n    hint: install Weft: kubectl apply -f manifests/');
    expect(run.stdout).toMatch(/Status check results are ✖ \(\d+ failed\)/);
  });

  it('passes after installManifests and a running operator', async () => {
    installManifests();
    const webhookPort = await freePort();
    operator = await startOperator(await operatorKubeconfig(kc), 'cli-check', [`--webhook-port=${webhookPort}`, '--webhook-host=127.0.0.1', '--tls-san=127.0.0.1']);
    const run = await eventually('kubectl weft check to pass', async () => {
      const r = weft('check', '-o', 'json');
      return r.status === 0 ? r : undefined;
    }, 90_000, 1000);
    const lines = JSON.parse(run.stdout) as Array<{ category: string; status: string; message: string }>;
    expect(lines.filter((l) => l.status === 'failed')).toEqual([]);
    const messages = lines.map((l) => l.message).join('\n');
    expect(messages).toContain('CRD virtualservices.weft.dev is Established at v1alpha1');
    expect(messages).toContain('leader cli-check renewed the Lease');
    expect(messages).toMatch(/ServiceAccount weft-system\/weft-operator may do all \d+ things it needs/);
    expect(messages).toContain('MutatingWebhookConfiguration weft-sidecar-injector has a caBundle for each webhook');
    expect(messages).toContain('ConfigMap weft-system/weft-root-ca (trust bundle)');
    expect(weft('check').stdout).toContain('Status check results are ✔');
  });

  it('live analyze names a conflicting pair applied to the cluster, reporting only the namespace asked for', async () => {
    ns = await throwawayNamespace(kc, 'cli-analyze');
    const objects = (name: string) => `
apiVersion: v1
kind: Service
metadata: { name: ratings, namespace: ${name} }
spec: { ports: [{ name: grpc, port: 9080 }], selector: { app: ratings } }
---
apiVersion: weft.dev/v1alpha1
kind: VirtualService
metadata: { name: ratings-first, namespace: ${name} }
spec: { hosts: [ratings], http: [{ route: [{ destination: { host: ratings } }] }] }
`;
    const second = (name: string) => `
apiVersion: weft.dev/v1alpha1
kind: VirtualService
metadata: { name: ratings-second, namespace: ${name} }
spec: { hosts: [ratings], http: [{ timeout: 2s, route: [{ destination: { host: ratings } }] }] }
`;
    applyYaml(objects(ns.name));
    // One second apart, so "the oldest wins" has an order (creationTimestamp has second resolution).
    await new Promise((r) => setTimeout(r, 1100));
    applyYaml(second(ns.name));
    const run = weft('analyze', '-n', ns.name, '-o', 'json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const list = JSON.parse(run.stdout) as Diagnostic[];
    expect(list.filter((d) => d.code === 'WEFT0201').map((d) => [d.kind, d.namespace, d.name, d.field])).toEqual([['VirtualService', ns.name, 'ratings-second', 'spec.hosts[0]']]);
    expect(list.every((d) => d.namespace === ns!.name)).toBe(true);
    // Removing the newer one leaves a clean namespace.
    kubectl('delete', 'virtualservices.weft.dev', 'ratings-second', '-n', ns.name);
    const clean = weft('analyze', '-n', ns.name, '--output-threshold', 'Warning');
    expect(clean.stdout).toBe(`✔ No problems found in namespace ${ns.name}.\n`);
    expect(clean.status).toBe(0);
  });
});

function applyYaml(yaml: string): void {
  const run = spawnSync(kubectlPath(), ['apply', '-f', '-'], { input: yaml, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`kubectl apply failed: ${run.stderr}`);
}

