// Writes the tables of the Memory section of docs/benchmarks.md (between <!-- memory-results --> and
// <!-- /memory-results -->) from the JSON bench/memory.sh leaves in docs/bench/memory/: never copied by hand.
//
//   node bench/memory-report.ts [docs/bench/memory] [docs/benchmarks.md]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Owner {
  name: string;
  count: number;
  selfBytes: number;
  retainedBytes: number;
}

interface MemoryResult {
  label: string;
  size: number;
  phase: 'fresh' | 'restart';
  commit: string;
  date: string;
  loadavg: string;
  /** The quiet-machine gate (bench/lib.sh): 1-minute load before the start, and whether it timed out. */
  loadBefore?: number;
  noisy?: boolean;
  nodeFlags: string;
  nodeOptions?: string;
  malloc?: string;
  secondsToSync: number;
  secondsToSettle: number;
  rssBytes: number;
  peakRssBytes: number;
  /** RSS `restSeconds` after the measurement (absent in runs before it was recorded). */
  rssAfterRestBytes?: number | null;
  restSeconds?: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  mallocHeapBytes: number;
  /** RSS by mapping after the rest (node binary, anonymous, malloc main arena, ...), where recorded. */
  rssByMapping?: Record<string, number>;
  snapshot: { totalBytes: number; byConstructor: Owner[] } | null;
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(0);
/** Anonymous memory including glibc's thread arenas, which runs before memory.sh told them apart counted there. */
const anonymous = (m: Record<string, number>) => (m.anonymous ?? 0) + (m['malloc thread arenas'] ?? 0);
const byMapping = (r: MemoryResult) => {
  const m = r.rssByMapping;
  if (!m) return '–';
  const arenas = m['malloc thread arenas'] === undefined ? '' : ` (${mib(m['malloc thread arenas'])})`;
  return `${mib(m['node binary'] ?? 0)} / ${mib(anonymous(m))}${arenas} / ${mib(m['malloc main arena'] ?? 0)}`;
};
const kib = (bytes: number) => (bytes / 1024).toFixed(1);

export function memoryTables(results: MemoryResult[]): string {
  const byDate = [...results].sort((a, b) => a.date.localeCompare(b.date) || a.size - b.size || a.phase.localeCompare(b.phase));
  const lines: string[] = [];
  lines.push('| run | commit | services | start | RSS MiB | RSS MiB a minute later | peak RSS MiB | V8 heap used MiB | V8 heap total MiB | malloc heap MiB | external MiB | RSS by mapping: node binary / anonymous (of it, malloc thread arenas) / malloc main arena MiB | load before → at the end (1/5/15 min) | settings |');
  lines.push('|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|');
  for (const r of byDate) {
    const load = `${r.loadBefore === undefined ? '' : `${r.loadBefore} → `}${r.loadavg}${r.noisy ? ' (noisy)' : ''}`;
    const settings = [r.nodeFlags, r.nodeOptions ? `NODE_OPTIONS=${r.nodeOptions}` : '', r.malloc ?? ''].filter((s) => s.trim()).join(' ').trim() || 'defaults';
    lines.push(
      `| ${r.label} | ${r.commit} | ${r.size} | ${r.phase} | ${mib(r.rssBytes)} | ${r.rssAfterRestBytes ? mib(r.rssAfterRestBytes) : '–'} | ${mib(r.peakRssBytes)} | ${mib(r.heapUsedBytes)} | ${mib(r.heapTotalBytes)} | ${mib(r.mallocHeapBytes)} | ${mib(r.externalBytes)} | ${byMapping(r)} | ${load} | ${settings} |`,
    );
  }
  // Cost per service: the difference between two sizes of the same run and start.
  const perService: string[] = [];
  for (const label of new Set(byDate.map((r) => r.label))) {
    for (const phase of ['fresh', 'restart'] as const) {
      const runs = byDate.filter((r) => r.label === label && r.phase === phase).sort((a, b) => a.size - b.size);
      if (runs.length < 2) continue;
      const [small, large] = [runs[0]!, runs[runs.length - 1]!];
      const n = large.size - small.size;
      perService.push(`| ${label} | ${phase} | ${small.size} → ${large.size} | ${kib((large.rssBytes - small.rssBytes) / n)} | ${kib((large.heapUsedBytes - small.heapUsedBytes) / n)} |`);
    }
  }
  if (perService.length > 0) {
    lines.push('', 'Cost per service (one ServiceEntry, DestinationRule and VirtualService), from two sizes of the same run:', '');
    lines.push('| run | start | services | RSS KiB / service | V8 heap used KiB / service |', '|---|---|---|--:|--:|', ...perService);
  }
  lines.push('', ...repeatedRuns(byDate));
  lines.push('', ...goalLines(byDate));
  for (const r of byDate.filter((x) => x.snapshot)) {
    lines.push('', `Heap snapshot, ${r.label} at ${r.size} services (${r.phase}): ${mib(r.snapshot!.totalBytes)} MiB reachable; the largest by retained size (outermost instances of each constructor; strings, code and arrays by type):`, '');
    lines.push('| constructor / type | count | self MiB | retained MiB |', '|---|--:|--:|--:|');
    for (const row of r.snapshot!.byConstructor.filter((c) => !c.name.startsWith('(synthetic)')).slice(0, 16)) {
      lines.push(`| ${row.name.replace(/\|/g, '\\|')} | ${row.count} | ${(row.selfBytes / 1048576).toFixed(1)} | ${(row.retainedBytes / 1048576).toFixed(1)} |`);
    }
  }
  return lines.join('\n');
}

const median = (values: number[]): number => {
  const v = [...values].sort((x, y) => x - y);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

/** Runs repeated under one name (`<label>-r<n>`), as medians: what an A/B of settings is judged on. */
function repeatedRuns(results: MemoryResult[]): string[] {
  const groups = new Map<string, MemoryResult[]>();
  for (const r of results) {
    const m = /^(.*)-r\d+$/.exec(r.label);
    if (!m) continue;
    const key = `${m[1]} | ${r.commit} | ${r.size} | ${r.phase}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  if (groups.size === 0) return [];
  const at = (group: MemoryResult[], f: (r: MemoryResult) => number | undefined) => {
    const values = group.map(f).filter((v): v is number => v !== undefined);
    return values.length ? mib(median(values)) : '–';
  };
  return [
    'Repeated runs (`<label>-r<n>`, interleaved), medians:',
    '',
    '| run | commit | services | start | runs | RSS MiB a minute later | V8 heap used MiB | anonymous MiB | of it, malloc thread arenas MiB | malloc main arena MiB |',
    '|---|---|--:|---|--:|--:|--:|--:|--:|--:|',
    ...[...groups].map(
      ([key, g]) =>
        `| ${key} | ${g.length} | ${at(g, (r) => r.rssAfterRestBytes ?? r.rssBytes)} | ${at(g, (r) => r.heapUsedBytes)} | ${at(g, (r) => (r.rssByMapping ? anonymous(r.rssByMapping) : undefined))} | ${at(g, (r) => r.rssByMapping?.['malloc thread arenas'])} | ${at(g, (r) => r.rssByMapping?.['malloc main arena'])} |`,
    ),
  ];
}

/**
 * Issue 16's memory goals, judged on the newest runs of each size: the median (RSS a minute after settling where
 * recorded) of every run with the newest run's commit and settings, so one noisy start does not decide.
 */
export function goalLines(results: MemoryResult[]): string[] {
  const settled = (r: MemoryResult) => r.rssAfterRestBytes ?? r.rssBytes;
  const sameSetup = (a: MemoryResult, b: MemoryResult) => a.commit === b.commit && a.nodeFlags === b.nodeFlags && (a.malloc ?? '') === (b.malloc ?? '');
  const newestGroup = (size: number, phase: MemoryResult['phase']) => {
    // `try-<label>` runs are experiments with settings that were not kept: they never stand for the goal.
    const runs = results.filter((r) => r.size === size && r.phase === phase && !r.label.startsWith('try-')).sort((a, b) => b.date.localeCompare(a.date));
    return runs[0] ? runs.filter((r) => sameSetup(r, runs[0]!)) : [];
  };
  // The issue states its limits in MB and GB (10^6 and 10^9 bytes): judged in those, shown in MiB as the tables are.
  const judged = (label: string, group: MemoryResult[], limitBytes: number) => {
    if (group.length === 0) return `- ${label}: not measured`;
    const values = group.map((r) => settled(r)).sort((a, b) => a - b);
    const middle = median(values);
    const spread = values.length > 1 ? ` of ${values.length} runs (${values.map((v) => (v / 1048576).toFixed(0)).join(', ')} MiB)` : '';
    const runs = group.map((r) => `\`${r.label}\``).join(', ');
    const loads = group.map((r) => r.loadBefore ?? 'not recorded').join(', ');
    const size = `**${(middle / 1048576).toFixed(0)} MiB** (${(middle / 1e6).toFixed(0)} MB)`;
    return `- ${label}: ${size}${values.length > 1 ? ' median' : ''}${spread}, ${middle <= limitBytes ? 'met' : 'not met'} (${runs}, ${group[0]!.commit}, load before ${loads})`;
  };
  return [
    'The goals, judged on the newest runs of each size with the same commit and settings, experiments (`try-`) aside (the median where there are several; RSS a minute after settling where recorded; generated):',
    '',
    judged('≤ 150 MB at 1000 services after a restart', newestGroup(1000, 'restart'), 150e6),
    judged('≤ 150 MB at 1000 services after a first start', newestGroup(1000, 'fresh'), 150e6),
    judged('10 000 services in 1 GB after a restart', newestGroup(10000, 'restart'), 1e9),
    judged('10 000 services in 1 GB after a first start', newestGroup(10000, 'fresh'), 1e9),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? 'docs/bench/memory';
  const doc = process.argv[3] ?? 'docs/benchmarks.md';
  const results = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as MemoryResult);
  const text = readFileSync(doc, 'utf8');
  const [open, close] = ['<!-- memory-results -->', '<!-- /memory-results -->'];
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${doc}: no ${open} ... ${close} section to fill`);
  writeFileSync(doc, `${text.slice(0, start + open.length)}\n${memoryTables(results)}\n${text.slice(end)}`);
}
