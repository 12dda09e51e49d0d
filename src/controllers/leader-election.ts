// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules (tools/leaderelection): at most one
// replica acts as leader; a crashed leader is replaced after the lease duration; a leader that shuts down
// releases the lease so a peer takes over at once.
import type { Logger } from 'pino';
import { sleep } from './backoff.js';
import { defaultLogger } from './logger.js';
import type { Metrics } from './metrics.js';
import { microTime } from './object.js';
import { resourcePath, resources } from './resource.js';
import { contentTypes, isConflict, isNotFound, type RestClient } from './rest-client.js';

/** Lease.spec. Times are MicroTime strings. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface StoredLease {
  spec: LeaseSpec;
  resourceVersion: string;
}

/**
 * The seam below the elector: one Lease object. create() and update() reject with a 409 ApiError (isConflict)
 * when another writer got there first; update() is conditional on `resourceVersion`.
 */
export interface LeaseStore {
  get(signal?: AbortSignal): Promise<StoredLease | undefined>;
  create(spec: LeaseSpec, signal?: AbortSignal): Promise<StoredLease>;
  update(spec: LeaseSpec, resourceVersion: string, signal?: AbortSignal): Promise<StoredLease>;
}

interface LeaseObject {
  metadata?: { resourceVersion?: string };
  spec?: LeaseSpec;
}

/** A LeaseStore over the API server. */
export class KubeLeaseStore implements LeaseStore {
  constructor(
    private readonly client: RestClient,
    readonly namespace: string,
    readonly name: string,
  ) {}

  async get(signal?: AbortSignal): Promise<StoredLease | undefined> {
    try {
      return stored(await this.client.json<LeaseObject>('GET', resourcePath(resources.leases, { namespace: this.namespace, name: this.name }), { signal }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(spec: LeaseSpec, signal?: AbortSignal): Promise<StoredLease> {
    const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace }, spec };
    return stored(await this.client.json<LeaseObject>('POST', resourcePath(resources.leases, { namespace: this.namespace }), { body, signal }));
  }

  /**
   * A merge patch carrying the resourceVersion we read: the API server rejects it with 409 if the Lease changed
   * since, and labels or annotations others put on the Lease survive (a PUT would drop them).
   */
  async update(spec: LeaseSpec, resourceVersion: string, signal?: AbortSignal): Promise<StoredLease> {
    const path = resourcePath(resources.leases, { namespace: this.namespace, name: this.name });
    const body = { metadata: { resourceVersion }, spec };
    return stored(await this.client.json<LeaseObject>('PATCH', path, { body, contentType: contentTypes.mergePatch, signal }));
  }
}

function stored(lease: LeaseObject): StoredLease {
  return { spec: lease.spec ?? {}, resourceVersion: lease.metadata?.resourceVersion ?? '' };
}

export interface LeaderElectionConfig {
  /** Names this election in logs and in leader_election_master_status (the Lease name). */
  name: string;
  /** Unique per replica (client-go: hostname + '_' + uuid). */
  identity: string;
  /** How long a non-leader waits, after it last saw the lease change, before taking over. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it steps down. Must be shorter than leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. */
  retryPeriodMs?: number;
  /** On cancellation, hand the lease back so a peer need not wait out the lease duration. Default true. */
  releaseOnCancel?: boolean;
}

export interface LeaderCallbacks {
  /** Called once this replica holds the lease. */
  onStartedLeading(): void;
  /**
   * Called the moment this replica stops being leader: renewal failed for renewDeadline, another holder was
   * seen, or run() was cancelled (then the lease is released right after). Stop every write before returning.
   */
  onStoppedLeading(): void;
  /** Called when the observed holder changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions {
  log?: Logger;
  metrics?: Metrics;
  /** Our clock. Expiry is judged by it alone, never by the timestamps other replicas wrote. */
  now?: () => number;
}

type Attempt = 'leading' | 'held-by-other' | 'conflict';

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private leading = false;
  /**
   * The lease record as last read, and when (by our clock) we saw it change. A holder other than us is
   * considered alive until observedAt + its leaseDurationSeconds: like client-go we trust only our own
   * observation of change, so clock skew between replicas cannot make a live lease look expired.
   */
  private observed: { spec: LeaseSpec; at: number } | undefined;

  constructor(
    private readonly store: LeaseStore,
    private readonly config: LeaderElectionConfig,
    private readonly callbacks: LeaderCallbacks,
    private readonly options: LeaderElectorOptions = {},
  ) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    if (this.retryPeriodMs >= this.renewDeadlineMs) throw new Error('leader election: retryPeriod must be shorter than renewDeadline');
    this.log = (options.log ?? defaultLogger()).child({ lease: config.name, identity: config.identity });
    this.now = options.now ?? Date.now;
    options.metrics?.setLeader(config.name, false);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed ('' when the lease is free, undefined before the first read). */
  getLeader(): string | undefined {
    return this.observed?.spec.holderIdentity;
  }

  /**
   * Campaigns until this replica leads, then renews until it cannot or `signal` aborts. Returns after
   * onStoppedLeading. To campaign again, call run() again.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    this.setLeading(true);
    try {
      await this.renew(signal);
    } finally {
      // Stop our writes first, then hand the lease over: the two never overlap with a successor's.
      this.setLeading(false);
      if (signal.aborted && (this.config.releaseOnCancel ?? true)) await this.release();
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log.info('campaigning for leadership');
    while (!signal.aborted) {
      const result = await this.tryAcquireOrRenew(signal).catch((err: unknown) => {
        if (!signal.aborted) this.log.warn({ err: String(err) }, 'cannot read or write the lease');
        return 'conflict' as const;
      });
      if (result === 'leading') return !signal.aborted;
      // client-go jitters the retry period by up to 1.2x so candidates do not move in lockstep.
      await sleep(this.retryPeriodMs * (1 + 1.2 * Math.random()), signal);
    }
    return false;
  }

  /**
   * Renews every retryPeriod. The deadline counts from the *start* of the last successful attempt: the write
   * landed after that instant, so a peer saw the change later still and cannot take over before
   * start + leaseDuration. Stepping down at start + renewDeadline (< leaseDuration) therefore always happens
   * before any peer may lead, even when the renewing request hangs: it is raced against the deadline.
   */
  private async renew(signal: AbortSignal): Promise<void> {
    let deadline = this.now() + this.renewDeadlineMs;
    while (!signal.aborted) {
      await sleep(Math.min(this.retryPeriodMs, deadline - this.now()), signal);
      if (signal.aborted) return;
      const startedAt = this.now();
      const remaining = deadline - startedAt;
      const result = remaining > 0 ? await this.attemptBefore(remaining, signal) : 'expired';
      if (signal.aborted) return;
      if (result === 'leading') {
        deadline = startedAt + this.renewDeadlineMs;
        continue;
      }
      if (result === 'held-by-other') {
        this.log.warn({ holder: this.getLeader() }, 'lease taken by another replica; stepping down');
        return;
      }
      if (this.now() >= deadline) {
        this.log.error({ renewDeadlineMs: this.renewDeadlineMs }, 'could not renew the lease in time; stepping down');
        return;
      }
    }
  }

  /** One renew attempt, abandoned (and its request aborted) when the deadline arrives. */
  private async attemptBefore(remainingMs: number, signal: AbortSignal): Promise<Attempt | 'expired' | 'failed'> {
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), remainingMs);
    });
    const attempt = this.tryAcquireOrRenew(abort.signal).catch((err: unknown) => {
      if (!abort.signal.aborted) this.log.warn({ err: String(err) }, 'lease renewal failed');
      return 'failed' as const;
    });
    try {
      return await Promise.race([attempt, deadline]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      abort.abort();
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const me = this.config.identity;
    const now = this.now();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    const current = await this.store.get(signal);
    if (!current) {
      const spec: LeaseSpec = { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      return this.write(() => this.store.create(spec, signal), now);
    }
    this.observe(current.spec, now);
    const holder = current.spec.holderIdentity ?? '';
    if (holder !== '' && holder !== me && !this.observedExpired(now)) return 'held-by-other';
    const renewing = holder === me;
    const spec: LeaseSpec = {
      holderIdentity: me,
      leaseDurationSeconds: durationSeconds,
      acquireTime: renewing ? (current.spec.acquireTime ?? microTime(now)) : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (current.spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
    };
    return this.write(() => this.store.update(spec, current.resourceVersion, signal), now);
  }

  /** A 409 means another replica wrote first: it won this round. */
  private async write(send: () => Promise<StoredLease>, now: number): Promise<Attempt> {
    try {
      this.observe((await send()).spec, now);
      return 'leading';
    } catch (err) {
      if (isConflict(err)) return 'conflict';
      throw err;
    }
  }

  private observe(spec: LeaseSpec, now: number): void {
    const previous = this.observed?.spec;
    if (previous && sameRecord(previous, spec)) return;
    this.observed = { spec, at: now };
    if (spec.holderIdentity && spec.holderIdentity !== previous?.holderIdentity) {
      this.log.info({ holder: spec.holderIdentity }, 'new leader observed');
      this.callbacks.onNewLeader?.(spec.holderIdentity);
    }
  }

  private observedExpired(now: number): boolean {
    const observed = this.observed;
    return !observed || observed.at + (observed.spec.leaseDurationSeconds ?? 0) * 1000 <= now;
  }

  /** Hands the lease back (client-go's ReleaseOnCancel): no holder, 1 s duration. Best effort. */
  private async release(): Promise<void> {
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const current = await this.store.get(signal);
      if (!current || current.spec.holderIdentity !== this.config.identity) return;
      const now = microTime(this.now());
      const spec: LeaseSpec = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.spec.leaseTransitions ?? 0 };
      this.observe((await this.store.update(spec, current.resourceVersion, signal)).spec, this.now());
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not release the lease; peers will wait for it to expire');
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.metrics?.setLeader(this.config.name, leading);
    this.log.info(leading ? 'started leading' : 'stopped leading');
    try {
      if (leading) this.callbacks.onStartedLeading();
      else this.callbacks.onStoppedLeading();
    } catch (err) {
      this.log.error({ err }, 'leader election callback threw');
    }
  }
}

function sameRecord(a: LeaseSpec, b: LeaseSpec): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
