// What a running operator loads. Not @kubernetes/client-node: importing it costs ~80 MiB of RSS (its KubeConfig
// pulls in the whole generated API); nor undici: 29 MiB (its JavaScript and WebAssembly HTTP parser; the API server
// is reached through node:https). Only src/controllers/client-node-access.ts may load them, with a dynamic import(),
// for kubeconfigs whose credentials Weft does not apply itself. Nor Node's own bundled undici, which an ES import of
// node:http loads (see src/net/builtins.ts). And not the other commands' modules:
// src/main.ts imports each command's when it runs. This walks the static import graphs, so a new import that
// drags either in fails here.
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

const HEAVY = ['@kubernetes/client-node', 'undici', 'node:http', 'node:https', 'node:http2'];
const isHeavy = (specifier: string): boolean => HEAVY.some((p) => specifier === p || specifier.startsWith(`${p}/`));

describe('the operator process does not import @kubernetes/client-node, undici or node:http(s/2) statically', () => {
  it('finds them where they are imported statically (the check itself works)', () => {
    expect([...packagesReachedFrom('test/e2e/kube.ts').keys()].filter(isHeavy)).toContain('@kubernetes/client-node');
    expect([...packagesReachedFrom('src/operator.ts').keys()]).toContain('@grpc/grpc-js');
  });

  // The operator, and the other commands main.ts can load (the agent, the CLI: short-lived or per workload).
  it.each(['src/main.ts', 'src/operator.ts', 'src/agent/command.ts', 'src/cli/index.ts'])('%s reaches it by no chain of static imports', (entry) => {
    const reached = [...packagesReachedFrom(entry)].filter(([specifier]) => isHeavy(specifier));
    expect(reached.map(([specifier, chain]) => `${chain.join(' -> ')} imports ${specifier}`)).toEqual([]);
  });

  it('src/main.ts imports no command statically: `weft operator` does not load the CLI, nor `weft agent` the operator', () => {
    const imports = staticImportsOf(resolve(ROOT, 'src/main.ts'));
    expect(imports.filter((s) => /operator|cli\/|agent\/|capture/.test(s))).toEqual([]);
    expect(readFileSync(resolve(ROOT, 'src/main.ts'), 'utf8')).toContain("import('./operator.js')");
  });

  it('client-node-access.ts, the fall-back, loads them dynamically only', () => {
    const file = resolve(ROOT, 'src/controllers/client-node-access.ts');
    expect(staticImportsOf(file).filter(isHeavy)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toContain("await import('@kubernetes/client-node')");
    expect(readFileSync(file, 'utf8')).toContain("await import('undici')");
  });
});
