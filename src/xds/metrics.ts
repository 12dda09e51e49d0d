// The xDS server's Prometheus metrics, registered in the manager's registry (served on the operator's /metrics):
// what it pushes and how fast, what proxies answer, how long config takes to converge, and what waits. Gauges are
// computed when scraped, from the control plane's own state. docs/observability.md lists them with the dashboard.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the scrape-time gauges read from the running control plane. */
export interface XdsMetricSources {
  /** This replica's name (the Lease identity: the Pod's name when installed), on the per-replica gauges. */
  replica: string;
  /** Every open stream's proxy kind and protocol (a stream's kind is known only after its first request). */
  connected(): Iterable<{ kind: string; protocol: string }>;
  /** Changes seen and not pushed yet, per debouncer. */
  pending(): { hosts: number; gateways: number } | undefined;
}

/** Seconds, from a millisecond up: a push is usually milliseconds, a slow one under a big fan-out seconds. */
const PUSH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Convergence adds the proxies' round trip and the debounce: up to a minute is worth telling apart. */
const CONVERGENCE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type XdsMetrics = ReturnType<typeof xdsMetrics>;

/**
 * A counter by xDS type (its message name: `Cluster`, `RouteConfiguration`...), counted in a map by type URL and
 * read when scraped: answers arrive by the thousand in a connect storm, and prom-client's inc() hashes its labels
 * every time.
 */
function counterByType(registry: Registry, name: string, help: string): { inc(typeUrl: string): void } {
  const counts = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: ['type'],
    registers: [registry],
    collect(this: Counter<'type'>) {
      this.reset();
      for (const [typeUrl, n] of counts) this.inc({ type: typeUrl.slice(typeUrl.lastIndexOf('.') + 1) }, n);
    },
  });
  return { inc: (typeUrl) => void counts.set(typeUrl, (counts.get(typeUrl) ?? 0) + 1) };
}

export function xdsMetrics(registry: Registry, sources: XdsMetricSources) {
  const replica = sources.replica;
  return {
    proxies: new Gauge({
      name: 'weft_xds_connected_proxies',
      help: 'ADS streams open at this replica, by proxy kind and protocol',
      labelNames: ['replica', 'kind', 'protocol'],
      registers: [registry],
      collect(this: Gauge<'replica' | 'kind' | 'protocol'>) {
        this.reset();
        for (const labels of sources.connected()) this.inc({ replica, ...labels });
      },
    }),
    pendingChanges: new Gauge({
      name: 'weft_xds_debounce_pending',
      help: 'Changes seen and not pushed yet (the debounce queue): hosts whose config must be recomputed, namespaces whose gateway config must be',
      labelNames: ['replica', 'trigger'],
      registers: [registry],
      collect(this: Gauge<'replica' | 'trigger'>) {
        this.reset();
        const pending = sources.pending();
        if (!pending) return;
        this.set({ replica, trigger: 'hosts' }, pending.hosts);
        this.set({ replica, trigger: 'gateways' }, pending.gateways);
      },
    }),
    pushes: new Counter({ name: 'weft_xds_pushes_total', help: 'Config updates pushed (after debounce)', registers: [registry] }),
    hosts: new Counter({ name: 'weft_xds_pushed_hosts_total', help: 'Hosts whose config changed, summed over pushes', registers: [registry] }),
    pushDuration: new Histogram({
      name: 'weft_xds_push_duration_seconds',
      help: 'From the informer event of the first change a push carries to its last write to the proxies\' streams, per push, by trigger (hosts: services, routes, endpoints; gateways: gateway-only config)',
      labelNames: ['trigger'],
      buckets: PUSH_BUCKETS,
      registers: [registry],
    }),
    convergence: new Histogram({
      name: 'weft_config_convergence_seconds',
      help: 'From the informer event of a new generation of a mesh object to the last ACK of it by the proxies connected to this replica that need it, by kind',
      labelNames: ['kind'],
      buckets: CONVERGENCE_BUCKETS,
      registers: [registry],
    }),
    acks: counterByType(registry, 'weft_xds_acks_total', 'ACKs received, by type'),
    nacks: counterByType(registry, 'weft_xds_nacks_total', 'NACKs received, by type'),
    limited: new Counter({
      name: 'weft_xds_streams_limited_total',
      help: 'Streams the server ended for what they cost: pending-bytes (the client stopped reading), names (too many in one request), streams-per-peer (refused on opening: its IP holds too many)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
