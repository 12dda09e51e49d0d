// The manager runs everything an operator process needs: shared informers (every replica), controllers (the
// leader only), the metrics/health server, leader election and graceful shutdown.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { loadClusterAccess, type ClusterAccess } from './cluster-access.js';
import type { ControllerHost, Runnable } from './controller.js';
import { EventLoopSlices } from './event-loop-slices.js';
import { EventRecorder } from './events.js';
import { startHttpServer, type RunningHttpServer } from './http-server.js';
import { describe, Informer, type InformerOptions, type InformerSpec } from './informer.js';
import { KubeLeaseStore, LeaderElector } from './leader-election.js';
import { defaultLogger } from './logger.js';
import { Metrics } from './metrics.js';
import type { KubeObject } from './object.js';
import { RestClient } from './rest-client.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per replica; hostname + '_' + a random uuid by default. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  /** Loaded from the default locations (KUBECONFIG, ~/.kube/config, in-cluster) when absent. */
  access?: ClusterAccess;
  log?: Logger;
  /** The /metrics, /healthz, /readyz server; port 0 picks a free port. `false` disables it. Default port 8080. */
  http?: { port: number; host?: string } | false;
  /** Without it every replica runs the controllers (fine for a single replica and for tests). */
  leaderElection?: LeaderElectionOptions;
  /**
   * Called after leader-only runnables have stopped because leadership was lost. The default, like
   * controller-runtime, stops the manager and exits with code 1, so the pod restarts and campaigns afresh.
   */
  onLeadershipLost?: () => void | Promise<void>;
  /**
   * Instead of onLeadershipLost, campaign again in this process once the leader-only runnables have stopped.
   * Safe because they stop before the lease can pass to a peer; useful where nothing restarts the process
   * (an operator run on a host), and quicker than a pod restart after a short API server outage.
   */
  campaignAfterLoss?: boolean;
  /** Stop gracefully on SIGTERM/SIGINT. Default true. */
  handleSignals?: boolean;
  /** Include Node's process metrics. Default true. */
  defaultMetrics?: boolean;
  /** Defaults for informers created through informer(). */
  informerOptions?: InformerOptions;
  /** How long stop() waits for runnables to return. Default 30 s. */
  gracefulShutdownMs?: number;
}

type State = 'new' | 'running' | 'stopping' | 'stopped';

export class Manager implements ControllerHost {
  readonly client: RestClient;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** This replica's name in the lease and in Events' reportingInstance. */
  readonly identity: string;
  /** The event loop's slices its controllers' workers share (more urgent work can hold them back: deferWhile). */
  readonly slices = new EventLoopSlices();
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly runnables: Runnable[] = [];
  private readonly recorders: EventRecorder[] = [];
  private readonly elector: LeaderElector | undefined;
  private state: State = 'new';
  private server: RunningHttpServer | undefined;
  /** Aborts leader-only runnables: on leadership loss and first thing on shutdown. */
  private leaderAbort = new AbortController();
  /** Aborts the election (which then releases the lease). */
  private readonly electionAbort = new AbortController();
  /** Aborts runnables that run on every replica. */
  private readonly everywhereAbort = new AbortController();
  private readonly leaderRuns: Array<Promise<void>> = [];
  /** Settles when the previous term's leader-only runnables have returned: a new term waits for it. */
  private previousTerm: Promise<void> = Promise.resolve();
  private readonly everywhereRuns: Array<Promise<void>> = [];
  private election: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private failure: unknown;
  private resolveStopped: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));
  private readonly signalHandler = (signal: NodeJS.Signals): void => {
    this.log.info({ signal }, 'shutting down');
    void this.stop();
  };

  constructor(private readonly options: ManagerOptions = {}) {
    this.client = new RestClient(options.access ?? loadClusterAccess());
    this.log = options.log ?? defaultLogger();
    this.metrics = new Metrics({ defaultMetrics: options.defaultMetrics });
    const election = options.leaderElection;
    this.identity = election?.identity ?? `${hostname()}_${randomUUID()}`;
    if (election) {
      this.elector = new LeaderElector(
        new KubeLeaseStore(this.client, election.namespace, election.name),
        { ...election, identity: this.identity },
        { onStartedLeading: () => this.startedLeading(), onStoppedLeading: () => this.stoppedLeading() },
        { log: this.log, metrics: this.metrics },
      );
    }
  }

  /**
   * The shared informer for `spec`: one per resource, namespace and selectors, however many controllers ask.
   * Informers run on every replica; one asked for after start() starts at once.
   */
  informer<T extends KubeObject>(spec: InformerSpec, options?: InformerOptions): Informer<T> {
    const key = describe(spec);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>(this.client, spec, { log: this.log, ...this.options.informerOptions, ...options });
      this.informers.set(key, informer);
      if (this.state === 'running') informer.start();
    }
    // Sharing by spec means the caller's T is a claim about the resource; one resource has one type.
    return informer as unknown as Informer<T>;
  }

  /** Registers a runnable (controllers register themselves in complete()). Must precede start(). */
  add(runnable: Runnable): void {
    if (this.state !== 'new') throw new Error('Manager.add() after start()');
    this.runnables.push(runnable);
  }

  /** An EventRecorder that reports as `reportingController` from this replica. */
  eventRecorder(reportingController: string): EventRecorder {
    const recorder = new EventRecorder(this.client, { reportingController, reportingInstance: this.identity.slice(0, 128), log: this.log });
    this.recorders.push(recorder);
    return recorder;
  }

  /** Event writes waiting or in flight, across this manager's recorders (a first start's Events outlast its queues). */
  pendingEventWrites(): number {
    return this.recorders.reduce((sum, r) => sum + r.pendingWrites, 0);
  }

  /** True while leader-only runnables may run (always, without leader election). */
  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.state === 'running';
  }

  /** True once every informer has its first list. */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** The bound port of the HTTP server (after start()). */
  get httpPort(): number | undefined {
    return this.server?.port;
  }

  /**
   * Starts everything and resolves once the manager has stopped again (stop(), a signal, or lost leadership);
   * rejects if a runnable failed.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('Manager.start() called twice');
    this.state = 'running';
    if (this.options.handleSignals ?? true) {
      process.once('SIGTERM', this.signalHandler);
      process.once('SIGINT', this.signalHandler);
    }
    const http = this.options.http ?? { port: 8080 };
    if (http) {
      try {
        this.server = await startHttpServer({ ...http, registry: this.metrics.registry, ready: () => this.hasSynced() });
      } catch (err) {
        await this.stop(); // e.g. the port is taken: undo the signal handlers
        throw err;
      }
    }
    for (const informer of this.informers.values()) informer.start();
    for (const runnable of this.runnables.filter((r) => !r.needLeaderElection)) {
      this.everywhereRuns.push(this.run(runnable, this.everywhereAbort.signal));
    }
    if (this.elector) this.election = this.campaign(this.elector, this.electionAbort.signal);
    else void this.startLeaderRunnables();
    await this.stopped;
    if (this.failure) throw this.failure;
  }

  /**
   * Graceful shutdown: stop controllers (writes end), release the lease so a peer takes over without waiting,
   * stop the other runnables and informers, close the server. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      this.resolveStopped();
      return;
    }
    this.state = 'stopping';
    process.off('SIGTERM', this.signalHandler);
    process.off('SIGINT', this.signalHandler);
    this.leaderAbort.abort();
    await this.settle(this.leaderRuns.splice(0));
    this.electionAbort.abort();
    await this.election;
    this.everywhereAbort.abort();
    await this.settle(this.everywhereRuns.splice(0));
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.server?.close();
    await this.client.close();
    this.state = 'stopped';
    this.log.info('manager stopped');
    this.resolveStopped();
  }

  /** One term, or (campaignAfterLoss) terms until shutdown. */
  private async campaign(elector: LeaderElector, signal: AbortSignal): Promise<void> {
    do await elector.run(signal);
    while (this.options.campaignAfterLoss && !signal.aborted);
  }

  private startedLeading(): void {
    this.leaderAbort = new AbortController();
    void this.startLeaderRunnables();
  }

  /** Leader-only runnables start once the informers are synced; a term that ends meanwhile starts nothing. */
  private async startLeaderRunnables(): Promise<void> {
    const signal = this.leaderAbort.signal;
    await this.previousTerm; // never two terms' workers at once
    const synced = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    if (signal.aborted || !synced.every(Boolean)) return;
    this.log.info('informers synced; starting leader-only runnables');
    for (const runnable of this.runnables.filter((r) => r.needLeaderElection)) this.leaderRuns.push(this.run(runnable, signal));
  }

  /** The elector calls this the moment it steps down: abort writers synchronously, then decide what next. */
  private stoppedLeading(): void {
    this.leaderAbort.abort();
    if (this.state !== 'running') return; // our own shutdown released the lease
    this.log.error('leadership lost; leader-only runnables stopped');
    const ending = this.settle(this.leaderRuns.splice(0));
    if (this.options.campaignAfterLoss) {
      this.previousTerm = ending;
      return;
    }
    void ending.then(async () => {
      const onLost = this.options.onLeadershipLost ?? (async () => {
        await this.stop();
        process.exit(1);
      });
      await onLost();
    });
  }

  private async run(runnable: Runnable, signal: AbortSignal): Promise<void> {
    try {
      await runnable.start(signal);
    } catch (err) {
      if (signal.aborted) return;
      this.log.error({ err }, 'runnable failed; stopping the manager');
      this.failure ??= err;
      void this.stop();
    }
  }

  /** Waits for `runs`, but no longer than the graceful shutdown period. */
  private async settle(runs: Array<Promise<void>>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn('runnables did not stop within the graceful shutdown period');
        resolve();
      }, this.options.gracefulShutdownMs ?? 30_000);
    });
    await Promise.race([Promise.allSettled(runs), timeout]);
    clearTimeout(timer);
  }
}
