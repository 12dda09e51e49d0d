// `kubectl weft config-dump <pod|node id> [--type lds|rds|cds|eds|sds]`: what one proxy holds, each resource with
// the mesh objects it comes from. The replica serving the proxy answers a request ConfigMap in the operator
// namespace with the resources the proxy ACKed (src/xds/mesh-sync/config-dump.ts; private keys redacted there), so
// this works through the API server alone and shows the proxy's real state, not a recomputation of it.
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Option, type Command } from 'commander';
import { isNotFound, resourcePath, resources } from '../controllers/index.js';
import { DUMP_KEY, DUMP_REQUEST_LABEL, type ConfigDump, type DumpRequest } from '../xds/mesh-sync/config-dump.js';
import { connect, findProxies, readSummaries, type Cluster, type ProxyRow } from './cluster.js';
import { setExitStatus, type Verb } from './index.js';
import { render, table } from './output.js';

const TYPES = ['lds', 'rds', 'cds', 'eds', 'sds'] as const;

/** Asks the replica serving `proxy` for its dump; resolves with it, or throws after `timeoutMs`. */
export async function requestDump(cluster: Cluster, proxy: ProxyRow, timeoutMs = 20_000): Promise<ConfigDump> {
  const name = `weft-config-dump-${randomBytes(5).toString('hex')}`;
  const at = { namespace: cluster.operatorNamespace, name };
  const request: DumpRequest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: cluster.operatorNamespace, labels: { [DUMP_REQUEST_LABEL]: 'true', 'app.kubernetes.io/part-of': 'weft' } },
    data: { proxy: proxy.id },
  };
  await cluster.client.json('POST', resourcePath(resources.configMaps, { namespace: cluster.operatorNamespace }), { body: request });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const cm = await cluster.client.json<DumpRequest>('GET', resourcePath(resources.configMaps, at));
      const data = cm.binaryData?.[DUMP_KEY];
      if (data) return JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')) as ConfigDump;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`replica ${proxy.replica} did not answer the config dump request ${cluster.operatorNamespace}/${name} within ${timeoutMs / 1000}s (is it running this version?)`);
  } finally {
    await cluster.client.send('DELETE', resourcePath(resources.configMaps, at)).catch((err: unknown) => {
      if (!isNotFound(err)) process.stderr.write(`warning: could not delete ${cluster.operatorNamespace}/${name}: ${(err as Error).message}\n`);
    });
  }
}

function sourcesOf(r: ConfigDump['resources'][number]): string {
  return r.sources.length === 0 ? '-' : r.sources.map((s) => `${s.kind}/${s.namespace}/${s.name}@${s.generation}`).join(',');
}

function asTable(dump: ConfigDump): string {
  const head = `Proxy ${dump.proxy.id} (${dump.proxy.kind}) on replica ${dump.replica}${dump.configsOmitted ? ' (configs left out to fit; names, states and sources are complete)' : ''}\n\n`;
  const rows = dump.resources.map((r) => [r.type, r.name, r.state, r.heldVersion || '-', sourcesOf(r)]);
  let out = head + table(['type', 'name', 'state', 'version', 'from'], rows);
  const nacks = dump.resources.filter((r) => r.nack);
  if (nacks.length > 0) out += `\nNACKed (the proxy keeps its last accepted version):\n${nacks.map((r) => `  ${r.type} ${r.name}: ${r.nack}`).join('\n')}\n`;
  return out;
}

export const configDumpVerb: Verb = (program) => {
  program
    .command('config-dump')
    .description('what one proxy holds (the resources it ACKed), and which mesh objects each comes from; -o json|yaml adds each config (private keys redacted)')
    .argument('<proxy>', 'a pod name (in -n), <namespace>/<pod>, or a node id')
    .addOption(new Option('--type <type>', 'only this xDS type').choices([...TYPES]))
    .action(async (query: string, opts: { type?: string }, command: Command) => {
      const cluster = connect(command);
      const found = findProxies((await readSummaries(cluster)).proxies, query, cluster.namespace);
      if (found.length !== 1) {
        process.stderr.write(
          found.length === 0
            ? `no proxy ${JSON.stringify(query)} is connected to a live replica (see kubectl weft proxy-status)\n`
            : `${found.length} proxies match ${JSON.stringify(query)}: name one by node id (${found.map((p) => p.id).join(', ')})\n`,
        );
        setExitStatus(command, 1);
        return;
      }
      const dump = await requestDump(cluster, found[0]!);
      if (opts.type) dump.resources = dump.resources.filter((r) => r.type === opts.type);
      process.stdout.write(render(cluster.output, dump, asTable));
    });
};
