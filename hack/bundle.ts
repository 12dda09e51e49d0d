// `make build`'s second step: dist/main.js, the `weft` every process runs (operator, agent, CLI), as one bundle
// with esbuild instead of tsc's ~550 modules (~980 files with the packages'). Node keeps a record, a loader cache
// entry and a context per module: at rest over 1000 services the operator's heap holds 2.4 MiB less (heap snapshots,
// docs/benchmarks.md "Memory"), and a bare `import` of the operator 8 MiB less heap and ~14 MiB less RSS. Names
// are not minified, so stack traces and CPU profiles read as before, and linked source maps point back to src/
// (bench/cpuprof-summary.ts reads them).
//
// Each command's modules stay a dynamic import (src/main.ts): with splitting they become chunks under dist/chunks/,
// loaded when that command runs. The rest of dist/ (tsc's output) stays for the tools and tests that import one
// module. The packages that are loaded only for rare cases stay outside, resolved from node_modules as before:
// @kubernetes/client-node and undici (exec-plugin kubeconfigs), cdk8s (the first Gateway deployment).
//
//   node hack/bundle.ts          (after tsc -p tsconfig.build.json)
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chunks = join(root, 'dist', 'chunks');
rmSync(chunks, { recursive: true, force: true }); // hashed names: an old build's chunks would stay otherwise

const { outputFiles } = await build({
  absWorkingDir: root,
  write: false,
  entryPoints: { main: 'src/main.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  external: ['@kubernetes/client-node', 'undici', 'cdk8s', 'cdk8s-plus-27', 'constructs'],
  // The CommonJS packages inside (grpc-js, protobufjs, node-forge, ...) call require(); an ES module has none.
  banner: { js: "import { createRequire as __weftCreateRequire } from 'node:module'; const require = __weftCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// V8 keeps each script's source text, one byte per character if every character is Latin-1 and two otherwise.
// esbuild escapes strings and identifiers but keeps some comments as they are, and one arrow in a comment doubled
// a 650 KB chunk's 0.6 MiB. In a comment an escape is only text; in code there is none left to change.
const latin1Only = (text: string) => text.replace(/[^\x00-\xff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
for (const file of outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.path.endsWith('.js') ? latin1Only(file.text) : file.contents);
}
