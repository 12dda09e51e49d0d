// `make dashboard-picture`: the Grafana dashboard's panels (deploy/monitoring/weft-dashboard.json) drawn from a real
// run, as docs/dashboard.svg. Against the cluster in KUBECONFIG (make cluster) and dist/ (make build): the operator as
// in e2e (its own ServiceAccount, --xds-port), three services with v1/v2 backends on 127.0.0.7x, a grpc-js-xds
// client per service sending a few RPCs per scrape, and one raw ADS client that NACKs every route update (so the NACK
// panel has something to show). For about two minutes a VirtualService or DestinationRule changes every few seconds while /metrics is
// scraped every 2 s; each panel's query is then evaluated over the recorded samples (rate and histogram_quantile
// over a 20 s window, as Prometheus computes them) and drawn as plain SVG, no plotting library.
//
// Run with `node --experimental-transform-types hack/dashboard-picture.ts [seconds]`; sources are loaded as
// TypeScript, so './x.js' imports are first mapped to './x.ts' (hack/ts-sources.mjs).
import { writeFileSync } from 'node:fs';
import './ts-sources.mjs'; // first: maps the sources' './x.js' imports to './x.ts'
import { join } from 'node:path';


const root = join(import.meta.dirname, '..');
const RUN_SECONDS = Number(process.argv[2] ?? 120);
const SCRAPE_MS = 2000;
const WINDOW_S = 20;

/** One scrape: every sample line, by series (name and sorted labels). */
interface Scrape {
  t: number;
  series: Map<string, { name: string; labels: Record<string, string>; value: number }>;
}

function parseMetrics(text: string, t: number): Scrape {
  const series: Scrape['series'] = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    series.set(`${m[1]}${JSON.stringify(labels)}`, { name: m[1]!, labels, value: Number(m[3]) });
  }
  return { t, series };
}

async function record(): Promise<Scrape[]> {
  const { eventually, kubeConfig, throwawayNamespace } = await import('../test/e2e/kube.js');
  const { freePort, installManifests, operatorKubeconfig, startOperator } = await import('../test/e2e/operator.js');
  const { startBackend } = await import('../test/e2e/xds/backends.js');
  const { XdsClient } = await import('../test/e2e/xds/clients.js');
  const { apply, destinationRule, serviceAccount, serviceEntry, split, virtualService, waitForCondition, workloadEntry } = await import('../test/e2e/xds/mesh.js');
  const { AdsTestClient } = await import('../src/xds/testing/ads-client.js');
  const { TypeUrl } = await import('../src/xds/protos.js');

  const kc = kubeConfig();
  installManifests();
  const ns = await throwawayNamespace(kc, 'dashboard');
  const xdsPort = await freePort();
  const operator = await startOperator(await operatorKubeconfig(kc), 'weft-operator-0', [`--xds-port=${xdsPort}`]);
  const stops: Array<() => Promise<void> | void> = [];
  try {
    await eventually('the operator to lead', async () => ((await operator.metric('leader_election_master_status')) === 1 ? true : undefined), 60_000);
    apply(ns.name, serviceAccount('workload'));
    const names = ['reviews', 'ratings', 'details'];
    const hosts = names.map((n) => `${n}.${ns.name}.svc.cluster.local`);
    for (const [i, name] of names.entries()) {
      const v1 = await startBackend(`${name}-v1`, `127.0.0.${71 + 2 * i}`);
      const v2 = await startBackend(`${name}-v2`, `127.0.0.${72 + 2 * i}`);
      stops.push(() => v1.stop(), () => v2.stop());
      const host = hosts[i]!;
      apply(ns.name, serviceEntry(name, host), workloadEntry(`${name}-v1`, v1, { app: name, version: 'v1' }, 'workload'), workloadEntry(`${name}-v2`, v2, { app: name, version: 'v2' }, 'workload'), destinationRule(name, host), virtualService(name, host, split(host, 90, 10)));
    }
    for (const name of names) await waitForCondition(ns.name, 'VirtualService', name, 'Programmed', 'True');
    const clients = [];
    for (const [i, host] of hosts.entries()) {
      const c = await XdsClient.start({ xdsPort, target: `${host}:9080`, nodeId: `client-${names[i]}` });
      stops.push(() => c.stop());
      clients.push(c);
    }
    // A proxy that rejects every route update after the first (a client with a bug, say): NACKs to show.
    const picky = new AdsTestClient(`127.0.0.1:${xdsPort}`);
    stops.push(() => picky.close());
    const stream = picky.sotw();
    const target = `${hosts[0]}:9080`;
    stream.send({ type_url: TypeUrl.listener, resource_names: [target], node: { id: 'picky-proxy', locality: { zone: 'z1' }, metadata: { GENERATOR: 'grpc' } } });
    void (async () => {
      let routes = 0;
      for await (const r of stream.responses()) {
        if (r.type_url === TypeUrl.listener) {
          stream.ack(r, [target]);
          if (routes === 0) stream.send({ type_url: TypeUrl.route, resource_names: [target] });
        } else if (r.type_url === TypeUrl.route && routes++ === 0) stream.ack(r, [target]);
        else stream.send({ type_url: r.type_url, resource_names: [target], response_nonce: r.nonce, error_detail: { code: 3, message: 'route rejected by the picky proxy' } });
      }
    })();

    const scrapes: Scrape[] = [];
    const started = Date.now();
    let step = 0;
    let nextChange = Date.now();
    while (Date.now() - started < RUN_SECONDS * 1000) {
      scrapes.push(parseMetrics(await operator.metrics(), (Date.now() - started) / 1000));
      await Promise.all(clients.map((c) => c.run(3, { concurrency: 1, deadlineMs: 1000 }))); // some real traffic, not a busy loop
      if (Date.now() >= nextChange) {
        const i = step % names.length;
        const host = hosts[i]!;
        if (step % 4 === 3) apply(ns.name, destinationRule(names[i]!, host, { trafficPolicy: { loadBalancer: { simple: step % 8 === 3 ? 'LEAST_REQUEST' : 'ROUND_ROBIN' } } }));
        else apply(ns.name, virtualService(names[i]!, host, split(host, 10 + ((step * 37) % 80), 90 - ((step * 37) % 80))));
        step++;
        // Calm, then busy, then calm: the panels show a change in rate.
        const busy = (Date.now() - started) / 1000 > RUN_SECONDS / 3 && (Date.now() - started) / 1000 < (2 * RUN_SECONDS) / 3;
        nextChange = Date.now() + (busy ? 700 : 4000);
      }
      await new Promise((r) => setTimeout(r, SCRAPE_MS - ((Date.now() - started) % SCRAPE_MS)));
    }
    return scrapes;
  } finally {
    for (const stop of stops.reverse()) await stop();
    await operator.stop();
    await ns.remove();
  }
}

// ---- the dashboard's queries, over the recorded scrapes ----

type Series = { label: string; points: Array<[number, number]> };
type Labels = Record<string, string>;

/** Sum of `name` per group of `by` labels at scrape i. */
function sumBy(s: Scrape, name: string, by: string[], filter: (l: Labels) => boolean = () => true): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of s.series.values()) {
    if (x.name !== name || !filter(x.labels)) continue;
    const key = by.map((b) => x.labels[b] ?? '').join(' ');
    out.set(key, (out.get(key) ?? 0) + x.value);
  }
  return out;
}

/** Per-second increase of a counter per group over the window ending at each scrape (counter resets not expected). */
function rateBy(scrapes: Scrape[], name: string, by: string[]): Series[] {
  const series = new Map<string, Array<[number, number]>>();
  scrapes.forEach((s, i) => {
    const j = scrapes.findIndex((p) => p.t >= s.t - WINDOW_S);
    if (j >= i) return;
    const now = sumBy(s, name, by);
    const then = sumBy(scrapes[j]!, name, by);
    for (const [k, v] of now) {
      if (!series.has(k)) series.set(k, []);
      series.get(k)!.push([s.t, Math.max(0, v - (then.get(k) ?? 0)) / (s.t - scrapes[j]!.t)]);
    }
  });
  return [...series].map(([label, points]) => ({ label, points }));
}

/** Prometheus's histogram_quantile over the bucket increases in the window, per group. */
function quantileBy(scrapes: Scrape[], name: string, q: number, by: string[], label: (group: string) => string): Series[] {
  const series = new Map<string, Array<[number, number]>>();
  scrapes.forEach((s, i) => {
    const j = scrapes.findIndex((p) => p.t >= s.t - WINDOW_S);
    if (j >= i) return;
    const now = sumBy(s, `${name}_bucket`, [...by, 'le']);
    const then = sumBy(scrapes[j]!, `${name}_bucket`, [...by, 'le']);
    const groups = new Map<string, Array<[number, number]>>();
    for (const [k, v] of now) {
      const parts = k.split(' ');
      const le = parts.pop()!;
      const g = parts.join(' ');
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push([le === '+Inf' ? Infinity : Number(le), v - (then.get(k) ?? 0)]);
    }
    for (const [g, buckets] of groups) {
      buckets.sort((a, b) => a[0] - b[0]);
      const total = buckets.at(-1)![1];
      if (total <= 0) continue;
      const rank = q * total;
      let prevLe = 0;
      let prevCount = 0;
      for (const [le, count] of buckets) {
        if (count >= rank) {
          const value = le === Infinity ? prevLe : prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9);
          if (!series.has(g)) series.set(g, []);
          series.get(g)!.push([s.t, value]);
          break;
        }
        prevLe = le;
        prevCount = count;
      }
    }
  });
  return [...series].map(([g, points]) => ({ label: label(g), points }));
}

function gaugeBy(scrapes: Scrape[], name: string, by: string[], transform: (v: number, t: number) => number = (v) => v, label: (g: string) => string = (g) => g): Series[] {
  const series = new Map<string, Array<[number, number]>>();
  for (const s of scrapes) {
    for (const [k, v] of sumBy(s, name, by)) {
      if (!series.has(k)) series.set(k, []);
      series.get(k)!.push([s.t, transform(v, s.t)]);
    }
  }
  return [...series].map(([g, points]) => ({ label: label(g), points }));
}

interface PanelData {
  title: string;
  unit: string;
  series: Series[];
}

function panels(scrapes: Scrape[]): PanelData[] {
  const started = Date.now() / 1000 - scrapes.at(-1)!.t; // the run's scrape times are relative: map back to wall time for expiry
  return [
    {
      title: 'Push latency (p50, p99)',
      unit: 's',
      series: [...quantileBy(scrapes, 'weft_xds_push_duration_seconds', 0.5, [], () => 'p50'), ...quantileBy(scrapes, 'weft_xds_push_duration_seconds', 0.99, [], () => 'p99')],
    },
    { title: 'Config convergence p99 by kind', unit: 's', series: quantileBy(scrapes, 'weft_config_convergence_seconds', 0.99, ['kind'], (g) => g) },
    {
      title: 'Pushes per second',
      unit: '/s',
      series: [...rateBy(scrapes, 'weft_xds_pushes_total', []).map((s) => ({ ...s, label: 'all pushes' })), ...rateBy(scrapes, 'weft_xds_push_duration_seconds_count', ['trigger'])],
    },
    { title: 'NACKs per second by type', unit: '/s', series: rateBy(scrapes, 'weft_xds_nacks_total', ['type']) },
    { title: 'Connected proxies per replica', unit: '', series: gaugeBy(scrapes, 'weft_xds_connected_proxies', ['replica', 'kind']) },
    {
      title: 'Queues: xDS debounce, reconciler work queues',
      unit: '',
      series: [...gaugeBy(scrapes, 'weft_xds_debounce_pending', ['trigger'], undefined, (g) => `debounce ${g}`), ...gaugeBy(scrapes, 'workqueue_depth', ['name'])],
    },
    { title: 'Reconcile errors per second', unit: '/s', series: rateBy(scrapes, 'controller_runtime_reconcile_errors_total', ['controller']) },
    {
      title: 'CA certificates: days to expiry',
      unit: 'd',
      series: gaugeBy(scrapes, 'weft_ca_certificate_expiry_timestamp_seconds', ['certificate'], (v, t) => (v - (started + t)) / 86400),
    },
  ];
}

// ---- SVG ----

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

function fmt(v: number, unit: string): string {
  if (unit === 's' && v < 1) return `${+(v * 1000).toPrecision(3)} ms`;
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : +v.toPrecision(3);
  return `${n}${unit === '/s' ? '/s' : unit === 'd' ? ' d' : unit === 's' ? ' s' : ''}`;
}

function panelSvg(p: PanelData, x: number, y: number, w: number, h: number, tMax: number): string {
  const left = 64;
  const top = 30;
  const legendH = 18 * Math.ceil(p.series.length / 3);
  const pw = w - left - 16;
  const ph = h - top - 28 - legendH;
  const yMax = niceMax(Math.max(0, ...p.series.flatMap((s) => s.points.map(([, v]) => v))));
  const px = (t: number) => x + left + (t / tMax) * pw;
  const py = (v: number) => y + top + ph - (v / yMax) * ph;
  const out = [`<rect x="${x + 4}" y="${y + 4}" width="${w - 8}" height="${h - 8}" rx="4" fill="#181b1f" stroke="#2c3235"/>`, `<text x="${x + 14}" y="${y + 22}" class="title">${esc(p.title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    out.push(`<line x1="${x + left}" x2="${x + left + pw}" y1="${py(v)}" y2="${py(v)}" class="grid"/>`, `<text x="${x + left - 6}" y="${py(v) + 4}" class="axis" text-anchor="end">${esc(fmt(v, p.unit))}</text>`);
  }
  for (let t = 0; t <= tMax; t += 30) out.push(`<text x="${px(t)}" y="${y + top + ph + 16}" class="axis" text-anchor="middle">${t}s</text>`);
  if (p.series.length === 0) out.push(`<text x="${x + left + pw / 2}" y="${y + top + ph / 2}" class="axis" text-anchor="middle">no data</text>`);
  p.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map(([t, v], k) => `${k === 0 ? 'M' : 'L'}${px(t).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    const lx = x + left + (i % 3) * (pw / 3);
    const ly = y + top + ph + 34 + 18 * Math.floor(i / 3);
    out.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${color}"/>`, `<text x="${lx + 14}" y="${ly - 3}" class="legend">${esc(s.label || 'value')}</text>`);
  });
  return out.join('\n');
}

function svg(data: PanelData[], tMax: number, note: string): string {
  const w = 560;
  const h = 250;
  const cols = 2;
  const width = w * cols;
  const height = 40 + h * Math.ceil(data.length / cols);
  const body = data.map((p, i) => panelSvg(p, (i % cols) * w, 40 + Math.floor(i / cols) * h, w, h, tMax)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<style>.title{fill:#d8d9da;font-size:13px;font-weight:600}.axis{fill:#8e8e8e;font-size:10px}.legend{fill:#c7d0d9;font-size:10px}.grid{stroke:#2c3235;stroke-width:1}.head{fill:#d8d9da;font-size:15px;font-weight:600}.note{fill:#8e8e8e;font-size:11px}</style>
<rect width="100%" height="100%" fill="#111217"/>
<text x="12" y="24" class="head">Weft control plane</text><text x="170" y="24" class="note">${esc(note)}</text>
${body}
</svg>
`;
}

const scrapes = await record();
const tMax = Math.ceil(scrapes.at(-1)!.t / 30) * 30;
const note = `from a real run: ${scrapes.length} scrapes of /metrics every ${SCRAPE_MS / 1000} s, ${WINDOW_S} s rate windows (hack/dashboard-picture.ts)`;
writeFileSync(join(root, 'docs', 'dashboard.svg'), svg(panels(scrapes), tMax, note));
console.log(`docs/dashboard.svg: ${scrapes.length} scrapes over ${scrapes.at(-1)!.t.toFixed(0)} s`);
process.exit(0);
