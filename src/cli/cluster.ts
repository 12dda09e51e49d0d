// How a verb reaches the cluster: the kubeconfig kubectl would use (--kubeconfig, --context, KUBECONFIG,
// ~/.kube/config, in-cluster), the API server only (no port-forward), and the replicas' sync summaries that
// every operator replica keeps in its namespace (src/xds/mesh-sync/).
import type { Command } from 'commander';
import { resourcePath, resources, RestClient, type KubeObject, type ResourceType } from '../controllers/index.js';
import { OPERATOR_NAMESPACE } from '../install/operator-chart.js';
import { DEFAULT_SUMMARY_TIMING, isLive, readSummaryConfigMap, SUMMARY_LABEL, type SummaryConfigMap } from '../xds/mesh-sync/summary-store.js';
import type { ProxySummary, ReplicaSummary } from '../xds/mesh-sync/summary.js';
import { accessFor } from './connect.js';
import type { GlobalOptions } from './index.js';
import { parseOutputFormat, type OutputFormat } from './output.js';

export interface Cluster {
  client: RestClient;
  /** -n, else the context's namespace, else default. */
  namespace: string;
  output: OutputFormat;
  /** The operator's namespace (--weft-namespace). */
  operatorNamespace: string;
}

/** The root program's options, from any verb's command. */
export function globalOptions(command: Command): GlobalOptions & { weftNamespace?: string } {
  let root = command;
  while (root.parent) root = root.parent;
  return { ...root.opts<GlobalOptions>(), ...command.opts<GlobalOptions>() };
}

export function connect(command: Command): Cluster {
  const options = globalOptions(command);
  const access = accessFor(options);
  return {
    client: new RestClient(access),
    namespace: options.namespace ?? access.namespace ?? 'default',
    output: parseOutputFormat(options.output),
    operatorNamespace: process.env.WEFT_NAMESPACE ?? OPERATOR_NAMESPACE,
  };
}

export async function list<T extends KubeObject>(cluster: Cluster, resource: ResourceType, namespace?: string, labelSelector?: string): Promise<T[]> {
  const body = await cluster.client.json<{ items: T[] }>('GET', resourcePath(resource, namespace ? { namespace } : {}), { query: { labelSelector } });
  return body.items.map((o) => ({ ...o, kind: resource.kind }));
}

export interface ProxyRow extends ProxySummary {
  replica: string;
}

export interface Summaries {
  /** Live replicas' summaries, by replica. */
  replicas: ReplicaSummary[];
  /** Every proxy connected to a live replica. */
  proxies: ProxyRow[];
  /** Replicas whose summary is stale (killed, or cut off from the API server) or unreadable, and why. */
  ignored: Array<{ replica: string; reason: string }>;
}

export async function readSummaries(cluster: Cluster, nowMs = Date.now()): Promise<Summaries> {
  const configMaps = await list<SummaryConfigMap>(cluster, resources.configMaps, cluster.operatorNamespace, `${SUMMARY_LABEL}=true`);
  const out: Summaries = { replicas: [], proxies: [], ignored: [] };
  for (const cm of configMaps) {
    const replica = cm.metadata.annotations?.['weft.dev/replica'] ?? cm.metadata.name!;
    if (!isLive(cm, nowMs, DEFAULT_SUMMARY_TIMING.staleAfterMs)) {
      out.ignored.push({ replica, reason: `no heartbeat since ${cm.metadata.annotations?.['weft.dev/heartbeat'] ?? 'ever'}` });
      continue;
    }
    const read = readSummaryConfigMap(cm);
    if ('error' in read) {
      out.ignored.push({ replica, reason: read.error });
      continue;
    }
    out.replicas.push(read.summary);
    for (const p of read.summary.proxies) out.proxies.push({ ...p, replica: read.summary.replica });
  }
  out.proxies.sort((a, b) => a.id.localeCompare(b.id));
  return out;
}

/** Proxies matching a node id, `<namespace>/<pod>`, or a pod name in `namespace`. */
export function findProxies(proxies: ProxyRow[], query: string, namespace: string): ProxyRow[] {
  const byId = proxies.filter((p) => p.id === query);
  if (byId.length > 0) return byId;
  const [ns, pod] = query.includes('/') ? (query.split('/', 2) as [string, string]) : [namespace, query];
  return proxies.filter((p) => p.pod === pod && p.namespace === ns);
}
