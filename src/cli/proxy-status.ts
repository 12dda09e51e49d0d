// `kubectl weft proxy-status [pod|node id]`: every proxy connected to any operator replica, as each replica's sync
// summary tells it (istioctl proxy-status's shape): the replica serving it, per type SYNCED / STALE / NACKED,
// the version it ACKed, how long since the last response and the last ACK. NACK messages are printed below the
// table. Exit status 1 when a named proxy is not connected to a live replica.
import type { Command } from 'commander';
import { connect, findProxies, readSummaries, type ProxyRow } from './cluster.js';
import { setExitStatus, type Verb } from './index.js';
import { age, render, table } from './output.js';

const TYPES = ['cds', 'lds', 'eds', 'rds', 'sds'] as const;

function cell(p: ProxyRow, type: string): string {
  const t = p.types[type];
  return t ? t.state : '-';
}

function latest(p: ProxyRow, field: 'sentAt' | 'ackedAt'): number | undefined {
  const times = Object.values(p.types).flatMap((t) => (t[field] ? [Date.parse(t[field])] : []));
  return times.length > 0 ? Math.max(...times) : undefined;
}

function asTable(rows: ProxyRow[], nowMs: number): string {
  const lines = rows.map((p) => [
    p.id,
    p.pod ? `${p.namespace ?? ''}/${p.pod}` : '-',
    p.kind,
    p.replica,
    ...TYPES.map((t) => cell(p, t)),
    // The type versions are `a.b` per collection: the last 12 characters tell pushes apart.
    Object.values(p.types)[0]?.acked.slice(-12) || '-',
    ((t) => (t === undefined ? '-' : age(t, nowMs)))(latest(p, 'sentAt')),
    ((t) => (t === undefined ? '-' : age(t, nowMs)))(latest(p, 'ackedAt')),
  ]);
  let out = table(['node id', 'pod', 'kind', 'replica', ...TYPES, 'version', 'last response', 'last ack'], lines);
  const nacks = rows.flatMap((p) => Object.entries(p.types).flatMap(([type, t]) => (t.nack ? [`${p.id} ${type}: ${t.nack}`] : [])));
  if (nacks.length > 0) out += `\nNACKs (the proxy keeps its last accepted config):\n${nacks.map((n) => `  ${n}`).join('\n')}\n`;
  return out;
}

export const proxyStatusVerb: Verb = (program) => {
  program
    .command('proxy-status')
    .description('every proxy connected to any operator replica: per xDS type SYNCED, STALE or NACKED (with the message), version, time since the last response and ACK')
    .argument('[proxy]', 'a pod name (in -n), <namespace>/<pod>, or a node id')
    .action(async (proxy: string | undefined, _opts: unknown, command: Command) => {
      const cluster = connect(command);
      const summaries = await readSummaries(cluster);
      let rows = summaries.proxies;
      if (proxy !== undefined) {
        rows = findProxies(rows, proxy, cluster.namespace);
        if (rows.length === 0) {
          process.stderr.write(`no proxy ${JSON.stringify(proxy)} is connected to a live replica (node id, <namespace>/<pod>, or a pod in namespace ${cluster.namespace})\n`);
          setExitStatus(command, 1);
          return;
        }
      }
      const data = { proxies: rows, replicas: summaries.replicas.map((r) => ({ replica: r.replica, heartbeat: r.heartbeat, proxies: r.proxies.length, ...(r.proxiesOmitted ? { proxiesOmitted: r.proxiesOmitted } : {}) })), ignored: summaries.ignored };
      const now = Date.now();
      process.stdout.write(render(cluster.output, data, (d) => (d.proxies.length === 0 ? 'No proxies are connected.\n' : asTable(d.proxies, now))));
      for (const r of summaries.replicas) if (r.proxiesOmitted) process.stderr.write(`replica ${r.replica}: ${r.proxiesOmitted} proxies left out of its summary to bound its size\n`);
    });
};
