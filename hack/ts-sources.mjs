// For scripts that run Weft's TypeScript sources directly (node --experimental-transform-types): the sources import
// their siblings as './x.js', what tsc and Node want after compilation, and only './x.ts' exists. Imported first (a
// side-effect import), this registers a resolve hook that falls back from the one to the other; the script then
// loads the sources with dynamic imports, which resolve after it. (src/install/generate-manifests.ts keeps its own:
// src does not import from hack/.)
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(candidate)) return nextResolve(candidate.href, context);
    }
    return nextResolve(specifier, context);
  },
});
