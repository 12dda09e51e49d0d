// The layers read in one direction (docs/architecture.md): the mesh state is shared by the reconcilers and the xDS
// pipeline as siblings, so neither imports the other, and the mesh layer imports neither.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of a file, as a path under src/ (type-only imports too: they are dependencies all the same). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)].map((m) => m[1]!);
  return specifiers.map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

/** Files under `from` that import something under `to`, with what they import. */
function violations(from: string, to: string): string[] {
  return sources(join(SRC, from)).flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith(`${to}/`))
      .map((target) => `${relative(SRC, file)} imports ${target}`),
  );
}

describe('layers', () => {
  it('finds the imports it checks (the check itself works)', () => {
    expect(importsOf(join(SRC, 'operator.ts'))).toContain('reconcilers/index.ts');
  });

  it('xds never imports the reconcilers', () => {
    expect(violations('xds', 'reconcilers')).toEqual([]);
  });

  it('the reconcilers never import xds', () => {
    expect(violations('reconcilers', 'xds')).toEqual([]);
  });

  it('the mesh layer imports neither the reconcilers nor xds', () => {
    expect([...violations('mesh', 'reconcilers'), ...violations('mesh', 'xds')]).toEqual([]);
  });

  it('the operator starts the mesh state before the xDS pipeline, and both before the reconcilers', () => {
    const text = readFileSync(join(SRC, 'operator.ts'), 'utf8');
    const at = (needle: string) => {
      const i = text.indexOf(needle);
      expect(i).toBeGreaterThan(-1);
      return i;
    };
    expect(at('new MeshState(')).toBeLessThan(at('.serve(state)'));
    expect(at('.serve(state)')).toBeLessThan(at('registerMeshReconcilers('));
  });
});
