// `make image` (hack/image/build.sh): the operator image as an OCI archive without a Docker daemon. Built twice from
// the same tree it has the same digest; unpacked, its entrypoint runs chrooted in the image's own root filesystem
// (its loader, C/C++ runtime, Node, app and iptables): `weft help`, `weft capture` in a network namespace of its own
// (the sidecar's init step, real iptables rules), and `weft operator` against the local API server as the
// operator's ServiceAccount, its native addon loaded.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually, kubeConfig } from './kube.js';
import { freePort, installManifests, operatorKubeconfig, repoRoot } from './operator.js';

type Json = Record<string, any>;
const kc = kubeConfig();
const work = mkdtempSync(join(tmpdir(), 'weft-image-test-'));
let operator: ChildProcess | undefined;

function build(out: string): string {
  const stdout = execFileSync(join(repoRoot, 'hack/image/build.sh'), [], {
    env: { ...process.env, WEFT_IMAGE_OUT: out, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  return stdout.trim().split('\n').pop()!;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Unpacks the archive's image (index → manifest → layers, bottom first) into a root filesystem; returns it and the config. */
function unpack(archive: string): { rootfs: string; config: Json } {
  const layout = join(work, 'layout');
  const rootfs = join(work, 'rootfs');
  mkdirSync(layout);
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', archive, '-C', layout]);
  const blob = (digest: string) => join(layout, 'blobs', ...digest.split(':'));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as Json;
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8')) as Json;
  for (const layer of manifest.layers as Json[]) execFileSync('tar', ['-xzf', blob(layer.digest), '-C', rootfs]);
  return { rootfs, config: JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as Json };
}

/** The image's entrypoint with `args`, chrooted in its root filesystem with the image's environment only. */
function chrooted(rootfs: string, config: Json, args: string[], options: { ownNetwork?: boolean } = {}): [string, string[]] {
  const env = (config.config.Env as string[]) ?? [];
  const command = ['env', '-i', ...env, 'chroot', rootfs, ...(config.config.Entrypoint as string[]), ...args];
  return options.ownNetwork ? ['unshare', ['--net', ...command]] : [command[0]!, command.slice(1)];
}

afterAll(async () => {
  if (operator && operator.exitCode === null) {
    const exited = new Promise((resolve) => operator!.once('exit', resolve));
    operator.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('make image', () => {
  it('builds the same OCI archive twice; chrooted in it, weft help, weft capture (real rules, own netns) and weft operator run', async () => {
    const [first, second] = [join(work, 'a.oci.tar'), join(work, 'b.oci.tar')];
    const digest = build(first);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(build(second)).toBe(digest);
    expect(sha256(second)).toBe(sha256(first));

    const { rootfs, config } = unpack(first);
    expect(config.config.User).toBe('65532:65532');
    expect(config.config.Entrypoint).toEqual(['/usr/local/bin/node', '/app/dist/main.js']);
    expect(config.created).toBe('1970-01-01T00:00:00Z');

    const run = (args: string[], options?: { ownNetwork?: boolean }) => {
      const [command, argv] = chrooted(rootfs, config, args, options);
      return execFileSync(command, argv, { encoding: 'utf8' });
    };
    expect(run(['help'])).toContain('usage: weft <command>');
    // The sidecar's init step: real rules, in a network namespace made for it, read back with the image's iptables.
    const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
    const [, capture] = chrooted(rootfs, config, ['capture', '--proxy-uid=1337', '--exclude-inbound-ports=15021,15000,15010']);
    const script = `env ${capture.map(quote).join(' ')} && chroot ${quote(rootfs)} /usr/sbin/iptables-nft-save -t nat`;
    const rules = execFileSync('unshare', ['--net', 'sh', '-c', script], { encoding: 'utf8' });
    expect(rules).toContain('TCP traffic redirected to the sidecar');
    expect(rules).toContain('-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    expect(rules).toContain('-A WEFT_OUTPUT -m owner --uid-owner 1337 -j RETURN');

    installManifests();
    const metricsPort = await freePort();
    // The kubeconfig goes where the chrooted operator can read it.
    copyFileSync(await operatorKubeconfig(kc), join(rootfs, 'tmp', 'kubeconfig'));
    const [command, operatorArgs] = chrooted(rootfs, config, ['operator', '--leader-elect', `--metrics-port=${metricsPort}`, '--ca-port=0', '--ca-host=127.0.0.1', '--kubeconfig=/tmp/kubeconfig']);
    let output = '';
    operator = spawn(command, operatorArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    operator.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    operator.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await eventually('the operator from the image to be ready', async () => {
      if (operator!.exitCode !== null) throw new Error(`the operator exited (${operator!.exitCode}):\n${output}`);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    }, 60_000);
    expect(output).toContain('weft operator starting');
    // The native addon (dist/native/malloc-trim.node) ships in the image and loads against the image's glibc: the
    // operator gives its start-up burst's freed malloc memory back once its queues have been empty a while.
    await eventually('the operator from the image to trim after its start-up', async () => {
      if (operator!.exitCode !== null) throw new Error(`the operator exited (${operator!.exitCode}):\n${output}`);
      return output.includes('gave freed malloc memory back') ? true : undefined;
    }, 60_000);
  }, 600_000);
});
