// deploy/monitoring/: the Grafana dashboard, the PodMonitor and the Prometheus scrape job. No JSON-schema validator
// is installed here (and Grafana's own dashboard schema is AGPL), so the dashboard is checked field by field for
// what Grafana needs to import it (schemaVersion, unique panel ids, gridPos on the 24-column grid, a datasource on
// every panel and target, refIds), and, the check that matters, every PromQL expression names only metrics the
// operator registers, grouped and matched by labels those metrics have. The registries are built from the real
// metric modules, so renaming a metric or a label fails here rather than on a blank panel.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import YAML from 'yaml';
import { CaMetrics } from '../../src/ca/metrics.js';
import type { CaStore } from '../../src/ca/store.js';
import { Metrics } from '../../src/controllers/metrics.js';
import { xdsMetrics } from '../../src/xds/metrics.js';

const root = join(import.meta.dirname, '..', '..');
const monitoring = (file: string) => readFileSync(join(root, 'deploy', 'monitoring', file), 'utf8');

/** Every series name the operator exposes (a histogram's _bucket/_sum/_count), with its label names. */
function operatorSeries(): Map<string, Set<string>> {
  const controllers = new Metrics({ defaultMetrics: false });
  const registry = new Registry();
  xdsMetrics(registry, { replica: 'r', connected: () => [], pending: () => undefined });
  new CaMetrics(registry, { current: () => undefined } as unknown as CaStore);
  const series = new Map<string, Set<string>>();
  for (const metric of [...controllers.registry.getMetricsAsArray(), ...registry.getMetricsAsArray()]) {
    const { name, labelNames = [] } = metric as unknown as { name: string; labelNames?: string[] };
    const histogram = (metric as unknown as { type?: string }).type === 'histogram' || metric.constructor.name === 'Histogram';
    if (histogram) {
      series.set(`${name}_bucket`, new Set([...labelNames, 'le']));
      series.set(`${name}_sum`, new Set(labelNames));
      series.set(`${name}_count`, new Set(labelNames));
    } else series.set(name, new Set(labelNames));
  }
  return series;
}

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** What is wrong with one PromQL expression and its legend, against the series we expose (empty: nothing). */
function checkExpression(expr: string, legend: string | undefined, series: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  const grouping: string[] = [];
  rest = rest.replace(/\b(by|without)\s*\(([^)]*)\)/g, (_m, _kw, labels: string) => {
    grouping.push(...labels.split(',').map((l) => l.trim()).filter(Boolean));
    return ' ';
  });
  const matched: string[] = [];
  rest = rest.replace(/\{([^}]*)\}/g, (_m, body: string) => {
    for (const m of body.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) matched.push(m[1]!);
    return ' ';
  });
  const metrics: string[] = [];
  for (const m of rest.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const word = m[0];
    const followedBy = rest.slice(m.index! + word.length).trimStart()[0];
    if (followedBy === '(' || PROMQL_KEYWORDS.has(word)) continue; // a function or a keyword
    if (!series.has(word)) problems.push(`${JSON.stringify(expr)}: ${word} is not a metric the operator exposes`);
    else metrics.push(word);
  }
  if (metrics.length === 0 && problems.length === 0) problems.push(`${JSON.stringify(expr)}: names no metric of ours`);
  const labels = new Set(metrics.flatMap((m) => [...series.get(m)!]));
  for (const label of [...grouping, ...matched]) {
    if (!labels.has(label)) problems.push(`${JSON.stringify(expr)}: label ${label} is on none of ${metrics.join(', ')}`);
  }
  const shown = new Set(grouping.length > 0 ? grouping : labels);
  for (const m of (legend ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    if (!shown.has(m[1]!)) problems.push(`${JSON.stringify(expr)}: legend {{${m[1]}}} is not a label of the result`);
  }
  return problems;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ refId: string; expr: string; legendFormat?: string; datasource?: { type?: string; uid?: string } }>;
}

/** What Grafana needs of a dashboard to import and draw it (the fields its schema requires, and grid sanity). */
function checkDashboard(d: Record<string, unknown>, series: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  if (typeof d.title !== 'string' || d.title === '') problems.push('title: required');
  if (typeof d.uid !== 'string' || !/^[a-zA-Z0-9_-]{1,40}$/.test(d.uid)) problems.push('uid: 1-40 letters, digits, - or _');
  if (typeof d.schemaVersion !== 'number' || d.schemaVersion < 36) problems.push('schemaVersion: a number, 36 or later (datasource references as objects)');
  const variables = ((d.templating as { list?: Array<{ name: string; type: string; query?: string }> } | undefined)?.list ?? []);
  const datasourceVar = variables.find((v) => v.type === 'datasource' && v.query === 'prometheus');
  if (!datasourceVar) problems.push('templating.list: a datasource variable of type prometheus');
  const panels = d.panels as Panel[] | undefined;
  if (!Array.isArray(panels) || panels.length === 0) return [...problems, 'panels: required'];
  const ids = new Set<number>();
  const cells = new Map<string, string>();
  for (const p of panels) {
    const where = `panel ${p.id} (${p.title})`;
    if (!Number.isInteger(p.id) || ids.has(p.id)) problems.push(`${where}: id must be a unique integer`);
    ids.add(p.id);
    if (typeof p.type !== 'string' || typeof p.title !== 'string') problems.push(`${where}: type and title required`);
    const g = p.gridPos;
    if (!g || ![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.x < 0 || g.w < 1 || g.h < 1 || g.x + g.w > 24) {
      problems.push(`${where}: gridPos must be integers within the 24-column grid`);
      continue;
    }
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        const other = cells.get(`${x},${y}`);
        if (other) problems.push(`${where}: overlaps ${other}`);
        cells.set(`${x},${y}`, where);
      }
    }
    if (p.type === 'row') continue;
    const uses = `\${${datasourceVar?.name ?? 'datasource'}}`;
    if (p.datasource?.type !== 'prometheus' || p.datasource.uid !== uses) problems.push(`${where}: datasource must be {type: prometheus, uid: ${uses}}`);
    if (!p.targets?.length) problems.push(`${where}: no targets`);
    const refIds = new Set<string>();
    for (const t of p.targets ?? []) {
      if (!t.refId || refIds.has(t.refId)) problems.push(`${where}: refId must be unique in the panel`);
      refIds.add(t.refId);
      if (t.datasource && (t.datasource.type !== 'prometheus' || t.datasource.uid !== uses)) problems.push(`${where}: target ${t.refId} datasource`);
      problems.push(...checkExpression(t.expr, t.legendFormat, series).map((x) => `${where}: ${x}`));
    }
  }
  return [...new Set(problems)];
}

describe('the Grafana dashboard', () => {
  const series = operatorSeries();
  const dashboard = JSON.parse(monitoring('weft-dashboard.json')) as Record<string, unknown>;

  it('is importable and every query reads metrics and labels the operator exposes', () => {
    expect(checkDashboard(dashboard, series)).toEqual([]);
  });

  it('covers what the operators asked for: push latency, convergence, pushes, NACKs, proxies, queues, reconcile errors, CA expiry', () => {
    const exprs = (dashboard.panels as Panel[]).flatMap((p) => p.targets ?? []).map((t) => t.expr).join('\n');
    for (const metric of [
      'weft_xds_push_duration_seconds_bucket',
      'weft_config_convergence_seconds_bucket',
      'weft_xds_pushes_total',
      'weft_xds_nacks_total',
      'weft_xds_connected_proxies',
      'weft_xds_debounce_pending',
      'workqueue_depth',
      'controller_runtime_reconcile_errors_total',
      'weft_ca_certificate_expiry_timestamp_seconds',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  it('the checker catches a misspelt metric, a label the metric lacks, and a legend of a dropped label', () => {
    expect(checkExpression('sum by (le) (rate(weft_xds_push_duration_seconds_bucket[5m]))', undefined, series)).toEqual([]);
    expect(checkExpression('rate(weft_xds_push_seconds_bucket[5m])', undefined, series)).toEqual([expect.stringContaining('weft_xds_push_seconds_bucket is not a metric')]);
    expect(checkExpression('sum by (kind) (weft_xds_nacks_total)', undefined, series)).toEqual([expect.stringContaining('label kind is on none of weft_xds_nacks_total')]);
    expect(checkExpression('sum by (type) (rate(weft_xds_nacks_total{type="Cluster"}[1m]))', '{{replica}}', series)).toEqual([expect.stringContaining('legend {{replica}}')]);
    const broken = { ...dashboard, panels: [...(dashboard.panels as Panel[]), { ...(dashboard.panels as Panel[])[1]!, id: 1 }] };
    expect(checkDashboard(broken, series)).toEqual(expect.arrayContaining([expect.stringContaining('id must be a unique integer'), expect.stringContaining('overlaps')]));
  });
});

describe('the scrape configuration', () => {
  const deployment = YAML.parseAllDocuments(readFileSync(join(root, 'manifests', 'weft-operator.yaml'), 'utf8'))
    .map((d) => d.toJS() as { kind?: string; metadata?: { namespace?: string }; spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Array<{ ports?: Array<{ name?: string; containerPort?: number }>; args?: string[] }> } } } })
    .find((o) => o?.kind === 'Deployment')!;
  const podLabels = deployment.spec!.template!.metadata!.labels!;
  const ports = deployment.spec!.template!.spec!.containers!.flatMap((c) => c.ports ?? []);

  it('the PodMonitor selects the operator Pods of manifests/ and their metrics port by name', () => {
    const pm = YAML.parse(monitoring('podmonitor.yaml')) as { apiVersion: string; kind: string; spec: { namespaceSelector: { matchNames: string[] }; selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string }> } };
    expect([pm.apiVersion, pm.kind]).toEqual(['monitoring.coreos.com/v1', 'PodMonitor']);
    expect(pm.spec.namespaceSelector.matchNames).toEqual([deployment.metadata!.namespace]);
    for (const [k, v] of Object.entries(pm.spec.selector.matchLabels)) expect(podLabels[k]).toBe(v);
    const endpoint = pm.spec.podMetricsEndpoints[0]!;
    expect(ports.find((p) => p.name === endpoint.port)?.containerPort).toBe(8080);
    expect(endpoint.path).toBe('/metrics');
  });

  it('the Prometheus job keeps the same Pods and port', () => {
    const job = (YAML.parse(monitoring('prometheus-scrape.yaml')) as { scrape_configs: Array<{ kubernetes_sd_configs: Array<{ role: string; namespaces: { names: string[] } }>; relabel_configs: Array<{ source_labels: string[]; regex?: string; action?: string }> }> }).scrape_configs[0]!;
    expect(job.kubernetes_sd_configs[0]).toEqual({ role: 'pod', namespaces: { names: [deployment.metadata!.namespace] } });
    const keep = (label: string) => job.relabel_configs.find((r) => r.action === 'keep' && r.source_labels[0] === label)?.regex;
    expect(podLabels['app.kubernetes.io/name']).toBe(keep('__meta_kubernetes_pod_label_app_kubernetes_io_name'));
    expect(ports.some((p) => p.name === keep('__meta_kubernetes_pod_container_port_name'))).toBe(true);
  });
});
