// `make manifests`: writes manifests/ (CRDs from src/api, the operator's install from src/install), and removes
// YAML files there that nothing generates any more. Run as `node src/install/generate-manifests.ts` (Node strips
// the types).
//
// Sources import siblings as './x.js' (what tsc and Node ESM want after compilation). When Node runs the .ts
// files directly those .js files do not exist, so this entry point first registers a resolve hook that falls back
// from './x.js' to './x.ts', and only then imports the generator (a static import would resolve before the hook).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(candidate)) {
        return nextResolve(candidate.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
});

const { MANIFESTS_DIR, renderManifests } = await import('./manifests.js');

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(repoRoot, MANIFESTS_DIR);
mkdirSync(dir, { recursive: true });

const files = renderManifests();
for (const [name, text] of files) {
  const path = join(dir, name);
  const unchanged = existsSync(path) && readFileSync(path, 'utf8') === text;
  if (!unchanged) writeFileSync(path, text);
  console.log(`${unchanged ? 'unchanged' : 'wrote    '} ${MANIFESTS_DIR}/${name}`);
}
for (const name of readdirSync(dir)) {
  if (name.endsWith('.yaml') && !files.has(name)) {
    rmSync(join(dir, name));
    console.log(`removed   ${MANIFESTS_DIR}/${name}`);
  }
}
