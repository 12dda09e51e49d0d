// Writes a table of one case run several times (a fix at a time, or builds interleaved round by round; one loadgen
// JSON per run, named `<n>-<what ran>.json`) into a Markdown file, between <!-- steps:<folder> --> and
// <!-- /steps:<folder> -->: per run, the server and its commit, the load before it, the connect storm and the
// server's CPU from its start until two settle times after it (and, where recorded, the server's and the API
// server's inside the storm alone, and the writes the API server took in the storm and in the pushes, the triggers'
// own included), each trigger's push p50 / p99 with the CPU the server and the load generator spent on it, and the
// server's RSS before and with its clients; then, for each server (and commit) that ran more than once, the medians
// of its runs: the storm, the server's CPU inside it per second of the load generator's (the machine's speed moves
// between rounds; this ratio moves less), and the push p99. Never copied by hand.
//
//   node bench/steps-report.ts [--by-label] docs/bench/envoy-push [docs/benchmarks.md]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface Push {
  Latency: { P50: number; P99: number };
  ServerCPUSeconds: number;
  LoadgenCPUSeconds?: number;
}

interface Result {
  Label: string;
  Connect: { Seconds: number; ServerCPUSeconds?: number; InStorm?: { Server: number; APIServer: number }; APIWrites?: Record<string, number> };
  StormAfterSeconds?: number;
  Mode: string;
  Protocol: string;
  Clients: number;
  Size: number;
  Started: string;
  /** From the server's start until a probe client held complete config. */
  Ready?: { Seconds: number };
  Push: { Latency: { P50: number; P99: number }; APIWrites?: Record<string, number> };
  Pushes: Push[];
  Load?: { Before: number };
  Loadgen?: { ConnectCPUSeconds?: number };
  WeftCommit?: string;
  Server?: { RSSBaseline?: number; RSSConnected?: number };
}

const args = process.argv.slice(2);
// --by-label: one median row per server whatever its runs' commits (for a set whose commits differ outside src/).
const byLabel = args.includes('--by-label');
const [dir, doc = 'docs/benchmarks.md'] = args.filter((a) => a !== '--by-label');
if (!dir) {
  process.stderr.write('usage: node bench/steps-report.ts [--by-label] <folder of step JSONs> [doc]\n');
  process.exit(2);
}
const steps = readdirSync(dir)
  .filter((f) => /^\d+-.*\.json$/.test(f))
  .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
  .map((f) => ({ step: f.replace(/\.json$/, '').replace(/^\d+-/, '').replaceAll('-', ' '), result: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Result }));
if (steps.length === 0) throw new Error(`no <n>-<step>.json in ${dir}`);

const ms = (n: number) => n.toFixed(0);
const mb = (bytes: number | undefined) => (bytes ? (bytes / 1e6).toFixed(0) : '–');
const first = steps[0]!.result;
const stormAfter = first.StormAfterSeconds ? `, the connect storm ${first.StormAfterSeconds} s after the server was ready` : '';
const header = `${first.Clients} ${first.Mode} clients on ${first.Protocol} xDS, ${first.Size} services${stormAfter}; ${steps.length} runs in the order they ran.`;
const rows = steps.map(({ step, result: r }) => {
  const triggers = r.Pushes.map((p) => `${ms(p.Latency.P50)} / ${ms(p.Latency.P99)}`).join(', ');
  const server = r.Pushes.map((p) => ms(p.ServerCPUSeconds * 1000)).join(', ');
  const loadgen = r.Pushes.map((p) => (p.LoadgenCPUSeconds === undefined ? '–' : ms(p.LoadgenCPUSeconds * 1000))).join(', ');
  const commit = r.Label === 'gcp-linear' ? '–' : (r.WeftCommit ?? 'not recorded');
  const stormCpu = r.Connect.ServerCPUSeconds === undefined ? '–' : r.Connect.ServerCPUSeconds.toFixed(2);
  // Inside the storm only (recorded since 444c7c6); go-control-plane and the transport floor have no API server.
  const within = r.Connect.InStorm;
  const inStorm = within ? `${within.Server.toFixed(2)} / ${r.Label === 'gcp-linear' || r.Label.startsWith('grpcjs-floor') ? '–' : within.APIServer.toFixed(2)}` : '–';
  // The load generator shares the machine's cores: a storm lasts about as long as both together need.
  const loadgenInStorm = r.Loadgen?.ConnectCPUSeconds === undefined ? '–' : r.Loadgen.ConnectCPUSeconds.toFixed(2);
  const total = (w: Record<string, number> | undefined) => (w ? String(Object.values(w).reduce((a, b) => a + b, 0)) : '–');
  const writes = r.Connect.APIWrites || r.Push.APIWrites ? `${total(r.Connect.APIWrites ?? {})} / ${total(r.Push.APIWrites ?? {})}` : '–'; // none written: no map
  const ready = r.Ready ? r.Ready.Seconds.toFixed(2) : '–';
  return `| ${step} | ${r.Label} | ${commit} | ${r.Load?.Before.toFixed(2) ?? 'not recorded'} | ${ready} | ${r.Connect.Seconds.toFixed(2)} | ${stormCpu} | ${inStorm} | ${loadgenInStorm} | ${writes} | ${ms(r.Push.Latency.P50)} / ${ms(r.Push.Latency.P99)} | ${triggers} | ${server} | ${loadgen} | ${mb(r.Server?.RSSBaseline)} / ${mb(r.Server?.RSSConnected)} |`;
});
const median = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const groups = new Map<string, { server: string; commit: string; runs: Result[] }>();
for (const { result: r } of steps) {
  const commit = r.Label === 'gcp-linear' ? '–' : (r.WeftCommit ?? 'not recorded');
  const key = byLabel ? r.Label : `${r.Label} ${commit}`;
  let group = groups.get(key);
  if (!group) groups.set(key, (group = { server: r.Label, commit, runs: [] }));
  if (!group.commit.split(', ').includes(commit)) group.commit += `, ${commit}`;
  group.runs.push(r);
}
const repeated = [...groups.values()].filter((g) => g.runs.length > 1);
const medians = repeated.map(({ server, commit, runs }) => {
  const perLoadgen = runs.flatMap((r) => (r.Connect.InStorm && r.Loadgen?.ConnectCPUSeconds ? [r.Connect.InStorm.Server / r.Loadgen.ConnectCPUSeconds] : []));
  const ratio = median(perLoadgen);
  // A restarted server's proxies wait for both: until it serves, then the storm.
  const restart = median(runs.flatMap((r) => (r.Ready ? [r.Ready.Seconds + r.Connect.Seconds] : [])));
  return `| ${server} | ${commit} | ${runs.length} | ${restart === undefined ? '–' : restart.toFixed(2)} | ${median(runs.map((r) => r.Connect.Seconds))!.toFixed(2)} | ${ratio === undefined ? '–' : ratio.toFixed(3)} | ${ms(median(runs.map((r) => r.Push.Latency.P99))!)} |`;
});
const summary =
  medians.length === 0
    ? []
    : [
        '',
        'Medians per server:',
        '',
        '| server | Weft commit | runs | from the start until every client held complete config (s) | connect storm (s) | server CPU inside the storm per second of the load generator\'s | push p99 (ms) |',
        '|---|---|--:|--:|--:|--:|--:|',
        ...medians,
      ];
const table = [
  `<!-- generated by bench/steps-report.ts from ${dir}/*.json; do not edit by hand -->`,
  header,
  '',
  '| run | server | Weft commit | load before | server ready (s) | connect storm (s) | server CPU in the storm and its settling (s) | server / API server CPU inside the storm (s) | load generator CPU in the storm (s) | API server writes in the storm / the pushes | push p50 / p99 (ms) | per trigger: p50 / p99 (ms) | server CPU per trigger (ms) | load generator CPU per trigger (ms) | server RSS before / with clients (MB) |',
  '|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|---|--:|',
  ...rows,
  ...summary,
].join('\n');

const name = basename(dir);
const start = `<!-- steps:${name} -->`;
const end = `<!-- /steps:${name} -->`;
const text = readFileSync(doc, 'utf8');
const from = text.indexOf(start);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error(`${doc} has no ${start} ... ${end} section`);
writeFileSync(doc, `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`);
process.stdout.write(`${doc}: ${steps.length} steps from ${dir}\n`);
