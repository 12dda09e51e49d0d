// Prometheus metrics under controller-runtime's and client-go's names, so existing dashboards and alerts work.
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueMetrics } from './workqueue.js';

export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

/** Per-controller hooks used by controller.ts. */
export interface ControllerMetrics {
  reconciled(outcome: ReconcileOutcome, seconds: number): void;
  workerStarted(): void;
  workerFinished(): void;
}

/** When each key entered the queue and when each started processing, for the duration metrics. */
interface QueueTimes {
  added: Map<string, number>;
  processing: Map<string, number>;
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

export class Metrics {
  /** One registry per manager, so tests (and several managers in one process) never collide. */
  readonly registry = new Registry();
  private readonly queues = new Map<string, QueueTimes>();

  private readonly reconcileTotal = this.counter('controller_runtime_reconcile_total', 'Total number of reconciliations per controller', ['controller', 'result']);
  private readonly reconcileErrors = this.counter('controller_runtime_reconcile_errors_total', 'Total number of reconciliation errors per controller', ['controller']);
  private readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60],
    registers: [this.registry],
  });
  private readonly maxConcurrent = this.gauge('controller_runtime_max_concurrent_reconciles', 'Maximum number of concurrent reconciles per controller', ['controller']);
  private readonly activeWorkers = this.gauge('controller_runtime_active_workers', 'Number of currently used workers per controller', ['controller']);

  private readonly depth = this.gauge('workqueue_depth', 'Current depth of workqueue', ['name']);
  private readonly adds = this.counter('workqueue_adds_total', 'Total number of adds handled by workqueue', ['name']);
  private readonly retries = this.counter('workqueue_retries_total', 'Total number of retries handled by workqueue', ['name']);
  private readonly queueDuration = this.durationHistogram('workqueue_queue_duration_seconds', 'How long in seconds an item stays in workqueue before being requested');
  private readonly workDuration = this.durationHistogram('workqueue_work_duration_seconds', 'How long in seconds processing an item from workqueue takes');
  private readonly leaderStatus = this.gauge('leader_election_master_status', 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master', ['name']);

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Work in flight is measured when scraped, so a stuck reconcile shows up even though it never finishes.
    const queues = this.queues;
    const inFlight = (pick: (ages: number[]) => number) =>
      function collect(this: Gauge<'name'>): void {
        this.reset();
        for (const [name, times] of queues) this.set({ name }, pick([...times.processing.values()].map(seconds)));
      };
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads.',
      labelNames: ['name'],
      registers: [this.registry],
      collect: inFlight((ages) => ages.reduce((a, b) => a + b, 0)),
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: ['name'],
      registers: [this.registry],
      collect: inFlight((ages) => ages.reduce((a, b) => Math.max(a, b), 0)),
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** True when no work queue holds a key, waiting or in process. */
  queuesIdle(): boolean {
    for (const times of this.queues.values()) if (times.added.size > 0 || times.processing.size > 0) return false;
    return true;
  }

  /** Hooks for the work queue called `name` (controller-runtime names a controller's queue after it). */
  queue(name: string): QueueMetrics {
    const times: QueueTimes = { added: new Map(), processing: new Map() };
    this.queues.set(name, times);
    this.depth.set({ name }, 0);
    return {
      add: (key) => {
        this.adds.inc({ name });
        this.depth.inc({ name });
        if (!times.added.has(key)) times.added.set(key, performance.now());
      },
      get: (key) => {
        this.depth.dec({ name });
        const added = times.added.get(key);
        if (added !== undefined) this.queueDuration.observe({ name }, seconds(added));
        times.added.delete(key);
        times.processing.set(key, performance.now());
      },
      done: (key) => {
        const started = times.processing.get(key);
        if (started !== undefined) this.workDuration.observe({ name }, seconds(started));
        times.processing.delete(key);
      },
      retry: () => this.retries.inc({ name }),
    };
  }

  controller(controller: string, maxConcurrentReconciles: number): ControllerMetrics {
    this.maxConcurrent.set({ controller }, maxConcurrentReconciles);
    this.activeWorkers.set({ controller }, 0);
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    return {
      reconciled: (outcome, secs) => {
        this.reconcileTotal.inc({ controller, result: outcome });
        if (outcome === 'error') this.reconcileErrors.inc({ controller });
        this.reconcileTime.observe({ controller }, secs);
      },
      workerStarted: () => this.activeWorkers.inc({ controller }),
      workerFinished: () => this.activeWorkers.dec({ controller }),
    };
  }

  setLeader(leaseName: string, leading: boolean): void {
    this.leaderStatus.set({ name: leaseName }, leading ? 1 : 0);
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private durationHistogram(name: string, help: string): Histogram<'name'> {
    // client-go's buckets: 1 ns to 10 s by powers of ten.
    return new Histogram({ name, help, labelNames: ['name'], buckets: exponentialBuckets(1e-8, 10, 10), registers: [this.registry] });
  }
}
