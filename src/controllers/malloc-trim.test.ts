import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadMallocTrim } from './malloc-trim.js';

const root = resolve(import.meta.dirname, '../..');

// Built here as `make build` builds it (hack/build-native.sh), so the test runs without a build of dist/.
describe('malloc-trim addon', () => {
  let dir: string;
  let addon: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-malloc-trim-'));
    execFileSync(join(root, 'hack/build-native.sh'), [dir], { stdio: 'pipe' });
    addon = join(dir, 'malloc-trim.node');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads, and is missing (not an error) where no addon was built', () => {
    expect(typeof loadMallocTrim(addon)).toBe('function');
    expect(loadMallocTrim(join(dir, 'absent.node'))).toBeUndefined();
  });

  it('gives back what a burst freed below live allocations, which glibc keeps otherwise', () => {
    // 1500 buffers of 64 KiB (under glibc's mmap threshold: from the arena), each followed by a small one that stays
    // alive, so no freed run reaches the top of the arena, where glibc would trim it by itself.
    const script = `
      const { mallocTrim } = require(${JSON.stringify(addon)});
      const rss = () => Math.round(process.memoryUsage.rss() / 1048576);
      const kept = [];
      let burst = [];
      for (let i = 0; i < 1500; i++) { burst.push(Buffer.allocUnsafeSlow(64 * 1024).fill(1)); kept.push(Buffer.allocUnsafeSlow(256).fill(1)); }
      burst = undefined;
      gc();
      setTimeout(() => {
        const before = rss();
        const trimmed = mallocTrim();
        console.log(JSON.stringify({ before, after: rss(), trimmed, kept: kept.length }));
      }, 500);`;
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const { before, after, trimmed } = JSON.parse(run.stdout) as { before: number; after: number; trimmed: boolean };
    expect(trimmed).toBe(true);
    expect(before - after).toBeGreaterThan(60); // of the ~94 MiB freed
  });
});
