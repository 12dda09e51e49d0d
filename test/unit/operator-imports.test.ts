// The operator process must not load @kubernetes/client-node at start: importing it costs ~80 MiB of RSS (its
// KubeConfig pulls in the whole generated API). Only src/controllers/client-node-access.ts may load it, with a
// dynamic import(), for kubeconfigs whose credentials Weft does not apply itself. This walks the static import graph
// from the process's entry (src/main.ts, which also imports the CLI for its verb names) so a new import of it
// anywhere the operator reaches fails here.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The modules a file loads when it is loaded: static imports and re-exports, `import type` and `export type` left
 * out (erased). `import { type A }` counts: under verbatimModuleSyntax it stays as `import {} from`.
 */
function staticImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const withFrom = [...text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;'"]*?\sfrom\s+'([^']+)'/gm)].filter((m) => !m[1]).map((m) => m[2]!);
  const bare = [...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]!);
  return [...withFrom, ...bare];
}

/** Every package the static graph from `entry` loads, with the chain of files that first reaches it. */
function packagesReachedFrom(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of staticImportsOf(file)) {
      if (specifier.startsWith('.')) {
        walk(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'), [...chain, relative(ROOT, file)]);
      } else if (!packages.has(specifier)) {
        packages.set(specifier, [...chain, relative(ROOT, file)]);
      }
    }
  };
  walk(resolve(ROOT, entry), []);
  return packages;
}

const isClientNode = (specifier: string): boolean => specifier === '@kubernetes/client-node' || specifier.startsWith('@kubernetes/client-node/');

describe('the operator process does not import @kubernetes/client-node statically', () => {
  it('finds client-node where it is imported statically (the check itself works)', () => {
    expect([...packagesReachedFrom('test/e2e/kube.ts').keys()].some(isClientNode)).toBe(true);
    expect([...packagesReachedFrom('src/main.ts').keys()]).toContain('undici');
  });

  it('src/main.ts (the operator, the agent and the CLI verbs) reaches it by no chain of static imports', () => {
    const reached = [...packagesReachedFrom('src/main.ts')].filter(([specifier]) => isClientNode(specifier));
    expect(reached.map(([specifier, chain]) => `${chain.join(' -> ')} imports ${specifier}`)).toEqual([]);
  });

  it('client-node-access.ts, the fall-back, loads it dynamically only', () => {
    const file = resolve(ROOT, 'src/controllers/client-node-access.ts');
    expect(staticImportsOf(file).filter(isClientNode)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toContain("await import('@kubernetes/client-node')");
  });
});
