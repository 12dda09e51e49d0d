// Summarises a V8 CPU profile (`node --cpu-prof`) as Markdown: where the time went, by package or source file
// and by function (self time), with idle and GC apart. Used to explain where Weft's time goes in a benchmark.
//   node bench/cpuprof-summary.ts <file.cpuprofile> [top=20]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/cpuprof-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 20);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Self time per node: each sample's delta belongs to the node it hit.
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const busy = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName !== '(idle)').reduce((a, [, us]) => a + us, 0);

/** Where a frame lives: a package under node_modules, a file of ours, node's own code, or V8's pseudo-frames. */
function place(n: ProfileNode): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : `(${functionName || 'native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return url;
  const ours = /\/(dist|src)\/(.*)$/.exec(url);
  return ours?.[2] ?? url;
}

function table(title: string, key: (n: ProfileNode) => string): string {
  const sums = new Map<string, number>();
  for (const [id, us] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const k = key(byId.get(id)!);
    sums.set(k, (sums.get(k) ?? 0) + us);
  }
  const rows = [...sums].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `| ${title} | self ms | share of CPU |`,
    '|---|--:|--:|',
    ...rows.map(([k, us]) => `| \`${k.replaceAll('|', '\\|')}\` | ${(us / 1000).toFixed(0)} | ${((100 * us) / busy).toFixed(1)}% |`),
  ].join('\n');
}

process.stdout.write(
  `Profile ${file.split('/').pop()}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s on CPU (not idle).\n\n` +
    `${table('where (package or file)', place)}\n\n` +
    `${table('function (file)', (n) => `${n.callFrame.functionName || '(anonymous)'} (${place(n)}:${n.callFrame.lineNumber + 1})`)}\n`,
);
