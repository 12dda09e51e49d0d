// Summarises a V8 CPU profile (`node --cpu-prof`) as Markdown: where the time went, by package or source file
// and by function (self time), Weft's own functions with what they call (inclusive time), with idle and GC apart.
// Used to explain where Weft's time goes in a benchmark.
//   node bench/cpuprof-summary.ts <file.cpuprofile> [top=20] [--from S] [--to S] [--timeline S] [--long-tasks MS]
// --from/--to keep the samples between those seconds after the profile started (one phase of a run: the connect
// storm, the triggers); --timeline S adds CPU per S-second slice with its three biggest consumers, to find them;
// --long-tasks MS lists the stretches the event loop was busy without a break for at least MS (what a push
// arriving meanwhile waits behind), with what they spent it on; --callers F (F as the function tables write it,
// e.g. 'get (xds/cache.ts:27)') splits F's inclusive time by who called it, three callers deep.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    timeline: { type: 'string' },
    'long-tasks': { type: 'string' },
    callers: { type: 'string' },
  },
});
const [file, topArg] = positionals;
if (!file) {
  process.stderr.write('usage: node bench/cpuprof-summary.ts <file.cpuprofile> [top] [--from S] [--to S] [--timeline S]\n');
  process.exit(2);
}
const top = Number(topArg ?? 20);
const fromUs = Number(opts.from ?? 0) * 1e6;
const toUs = opts.to === undefined ? Infinity : Number(opts.to) * 1e6;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

/**
 * The operator runs as a bundle (hack/bundle.ts): a frame in dist/main.js or dist/chunks/* is moved to the source
 * file and line its linked source map names, so the tables below still say which module the time went to.
 */
function fromSourceMap(frame: ProfileNode['callFrame']): void {
  if (!frame.url.startsWith('file:') || frame.lineNumber < 0) return;
  const map = sourceMapOf(fileURLToPath(frame.url));
  const entry = map?.map.findEntry(frame.lineNumber, frame.columnNumber);
  if (!map || !entry || !('originalSource' in entry)) return;
  frame.url = pathToFileURL(resolve(map.dir, entry.originalSource.replace(/^file:\/\//, ''))).href;
  frame.lineNumber = entry.originalLine;
  frame.columnNumber = entry.originalColumn;
}
const sourceMaps = new Map<string, { map: SourceMap; dir: string } | undefined>();
function sourceMapOf(path: string): { map: SourceMap; dir: string } | undefined {
  if (!sourceMaps.has(path)) {
    const file = `${path}.map`;
    sourceMaps.set(path, existsSync(file) ? { map: new SourceMap(JSON.parse(readFileSync(file, 'utf8'))), dir: dirname(file) } : undefined);
  }
  return sourceMaps.get(path);
}
for (const n of profile.nodes) fromSourceMap(n.callFrame);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const isIdle = (id: number) => byId.get(id)!.callFrame.functionName === '(idle)';

/** Each sample: the node it hit, when (µs since the start) and for how long. */
const samples: Array<{ id: number; at: number; us: number }> = [];
let clock = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  clock += us;
  samples.push({ id, at: clock, us });
});
const inWindow = samples.filter((s) => s.at >= fromUs && s.at < toUs);

// Self time per node: each sample's delta belongs to the node it hit.
const self = new Map<number, number>();
for (const s of inWindow) self.set(s.id, (self.get(s.id) ?? 0) + s.us);
const total = [...self.values()].reduce((a, b) => a + b, 0);
const busy = [...self].filter(([id]) => !isIdle(id)).reduce((a, [, us]) => a + us, 0);

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
const isOurs = (n: ProfileNode) => /\/(dist|src)\//.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules');
const fn = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} (${place(n)}:${n.callFrame.lineNumber + 1})`;

function rowsOf(title: string, sums: Map<string, number>, unit: string): string {
  const rows = [...sums].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `| ${title} | ${unit} ms | share of CPU |`,
    '|---|--:|--:|',
    ...rows.map(([k, us]) => `| \`${k.replaceAll('|', '\\|')}\` | ${(us / 1000).toFixed(0)} | ${((100 * us) / busy).toFixed(1)}% |`),
  ].join('\n');
}

function selfTable(title: string, key: (n: ProfileNode) => string): string {
  const sums = new Map<string, number>();
  for (const [id, us] of self) {
    if (isIdle(id)) continue;
    const k = key(byId.get(id)!);
    sums.set(k, (sums.get(k) ?? 0) + us);
  }
  return rowsOf(title, sums, 'self');
}

/** Weft's functions with everything they call: what a change to our code can save. */
function inclusiveTable(): string {
  const sums = new Map<string, number>();
  for (const s of inWindow) {
    if (isIdle(s.id)) continue;
    const seen = new Set<string>();
    for (let id: number | undefined = s.id; id !== undefined; id = parentOf.get(id)) {
      const n = byId.get(id)!;
      if (!isOurs(n)) continue;
      const k = fn(n);
      if (seen.has(k)) continue; // recursion counts once
      seen.add(k);
      sums.set(k, (sums.get(k) ?? 0) + s.us);
    }
  }
  return rowsOf("Weft's function (file)", sums, 'inclusive');
}

/** The nearest function of ours on a sample's stack (else its place): what a stretch of CPU is attributed to. */
function owner(id: number): string {
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const n = byId.get(at)!;
    if (isOurs(n)) return `${place(n)}:${n.callFrame.functionName || '(anonymous)'}`;
  }
  return place(byId.get(id)!);
}

/** Stretches of samples with no idle one between them, at least `minMs` long, with their three biggest owners. */
function longTasks(minMs: number): string {
  const tasks: Array<{ at: number; us: number; by: Map<string, number> }> = [];
  let task: (typeof tasks)[number] | undefined;
  for (const s of inWindow) {
    if (isIdle(s.id)) {
      if (task && task.us >= minMs * 1000) tasks.push(task);
      task = undefined;
      continue;
    }
    task ??= { at: s.at - s.us, us: 0, by: new Map() };
    task.us += s.us;
    const k = owner(s.id);
    task.by.set(k, (task.by.get(k) ?? 0) + s.us);
  }
  if (task && task.us >= minMs * 1000) tasks.push(task);
  return [
    `| at s | busy without a break (ms) | biggest consumers (ms) |`,
    '|--:|--:|---|',
    ...tasks.map(({ at, us, by }) => {
      const topThree = [...by].sort((x, y) => y[1] - x[1]).slice(0, 3);
      return `| ${(at / 1e6).toFixed(2)} | ${(us / 1000).toFixed(0)} | ${topThree.map(([l, t]) => `\`${l}\` ${(t / 1000).toFixed(0)}`).join(', ')} |`;
    }),
  ].join('\n');
}

/** CPU per slice of time and its biggest consumers (the nearest function of ours on the stack, else the place). */
function timeline(sliceS: number): string {
  const slices = new Map<number, { busy: number; by: Map<string, number> }>();
  for (const s of inWindow) {
    if (isIdle(s.id)) continue;
    const k = Math.floor(s.at / (sliceS * 1e6));
    let slice = slices.get(k);
    if (!slice) slices.set(k, (slice = { busy: 0, by: new Map() }));
    slice.busy += s.us;
    const label = owner(s.id);
    slice.by.set(label, (slice.by.get(label) ?? 0) + s.us);
  }
  return [
    `| from s | busy ms | biggest consumers (ms) |`,
    '|--:|--:|---|',
    ...[...slices]
      .sort((a, b) => a[0] - b[0])
      .map(([k, { busy: b, by }]) => {
        const topThree = [...by].sort((x, y) => y[1] - x[1]).slice(0, 3);
        return `| ${(k * sliceS).toFixed(1)} | ${(b / 1000).toFixed(0)} | ${topThree.map(([l, us]) => `\`${l}\` ${(us / 1000).toFixed(0)}`).join(', ')} |`;
      }),
  ].join('\n');
}

/** The inclusive time of the frames named `name`, by their three nearest callers (the outermost frame of a recursion). */
function callers(name: string): string {
  const sums = new Map<string, number>();
  for (const s of inWindow) {
    if (isIdle(s.id)) continue;
    let hit: number | undefined;
    for (let id: number | undefined = s.id; id !== undefined; id = parentOf.get(id)) if (fn(byId.get(id)!) === name) hit = id;
    if (hit === undefined) continue;
    const chain: string[] = [];
    for (let id = parentOf.get(hit); id !== undefined && chain.length < 3; id = parentOf.get(id)) chain.push(fn(byId.get(id)!));
    const k = chain.join(' ← ');
    sums.set(k, (sums.get(k) ?? 0) + s.us);
  }
  return rowsOf(`callers of \`${name}\``, sums, 'inclusive');
}

const window = opts.from !== undefined || opts.to !== undefined ? ` between ${opts.from ?? 0} s and ${opts.to ?? 'the end'}` : '';
process.stdout.write(
  `Profile ${file.split('/').pop()}${window}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s on CPU (not idle).\n\n` +
    (opts.timeline ? `${timeline(Number(opts.timeline))}\n\n` : '') +
    (opts['long-tasks'] ? `${longTasks(Number(opts['long-tasks']))}\n\n` : '') +
    `${selfTable('where (package or file)', place)}\n\n` +
    `${selfTable('function (file)', fn)}\n\n` +
    `${inclusiveTable()}\n` +
    (opts.callers ? `\n${callers(opts.callers)}\n` : ''),
);
