// Events (events.k8s.io/v1) that explain what a controller did, shown by `kubectl describe` and `kubectl events`.
import { createHash, randomBytes } from 'node:crypto';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { defaultLogger } from './logger.js';
import { microTime, type KubeObject } from './object.js';
import { resourcePath, resources } from './resource.js';
import { contentTypes, isNotFound, type RestClient } from './rest-client.js';

export type EventType = 'Normal' | 'Warning';

export interface EventInfo {
  type: EventType;
  /** CamelCase, why it happened (e.g. `InvalidSpec`). */
  reason: string;
  /** CamelCase, what was done or attempted (e.g. `Reconcile`, `Apply`). */
  action: string;
  /** For people, at most 1 kB. */
  note: string;
}

export interface EventRecorderOptions {
  /** The controller's name, e.g. `weft.dev/operator`. */
  reportingController: string;
  /** Which replica: the pod name or leader identity. */
  reportingInstance: string;
  log?: Logger;
  /** Repeats of an event within this window extend one Event's series instead of creating new Events. */
  seriesWindowMs?: number;
  /** Event writes in flight at most, across series (default 4). */
  maxConcurrentWrites?: number;
  /**
   * Series held at most once written (default 4096, client-go's event correlator's cache): the least recently
   * observed go first, and a repeat of one gone starts a new Event.
   */
  maxSeries?: number;
  now?: () => number;
}

/**
 * One Event object and how often it happened. `count` grows synchronously on each repeat; `written` is the count
 * the API server has. Writes for a series are chained, so they never race, and repeats that arrive while a write
 * is in flight are folded into the next write.
 */
interface Series {
  namespace: string;
  name: string;
  count: number;
  written: number;
  lastObservedAt: number;
  chain: Promise<void>;
  /**
   * The Event to create, from the latest record() of the series, while a write is due; dropped once written. A first
   * start holds a series per event recorded (9000 at 1000 services: Accepted, Programmed, ...) for the whole window,
   * and most never repeat. A repeat brings the same fields again (they make the series' key), for the Event's
   * re-creation should it have expired.
   */
  due: { event: EventInfo; regarding: ObjectReference; eventTime: number } | undefined;
}

interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  uid: string | undefined;
  resourceVersion: string | undefined;
}

/** What a series' chain is once its writes are done, so that a quiet series holds no promise of its own. */
const settled = Promise.resolve();

export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly log: Logger;
  private readonly windowMs: number;
  private readonly maxSeries: number;
  private readonly now: () => number;
  private lastSweep = 0;
  /** Pending while series are held: forgets ended series even when no further event is recorded. */
  private sweepTimer: NodeJS.Timeout | undefined;
  /**
   * Writes wait their turn here, as client-go's broadcaster writes one at a time: a first start judges every object
   * at once (3000 Events at 1000 services), and unbounded, each write held its own connection and buffers in
   * flight, most of the start-up burst's memory, kept by the process long after.
   */
  private readonly writes: PQueue;

  constructor(
    private readonly client: RestClient,
    private readonly options: EventRecorderOptions,
  ) {
    this.log = (options.log ?? defaultLogger()).child({ component: 'events' });
    this.windowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.maxSeries = options.maxSeries ?? 4096;
    this.now = options.now ?? Date.now;
    this.writes = new PQueue({ concurrency: options.maxConcurrentWrites ?? 4 });
  }

  /** Records an Event about `regarding`. Never throws and never waits: failures are logged. */
  record(regarding: KubeObject, event: EventInfo): void {
    try {
      this.recordOrThrow(regarding, event);
    } catch (err) {
      this.log.error({ err, reason: event.reason }, 'cannot record event');
    }
  }

  normal(regarding: KubeObject, reason: string, action: string, note: string): void {
    this.record(regarding, { type: 'Normal', reason, action, note });
  }

  warning(regarding: KubeObject, reason: string, action: string, note: string): void {
    this.record(regarding, { type: 'Warning', reason, action, note });
  }

  /** How many series are held (each an Event and how often it happened in the last window). */
  get heldSeries(): number {
    return this.series.size;
  }

  /** Event writes waiting their turn or in flight. */
  get pendingWrites(): number {
    return this.writes.size + this.writes.pending;
  }

  /** Resolves when every write started so far has finished (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.series.values()].map((s) => s.chain));
  }

  private recordOrThrow(regarding: KubeObject, event: EventInfo): void {
    const { apiVersion, kind } = regarding;
    const { name, namespace, uid, resourceVersion } = regarding.metadata ?? {};
    if (!apiVersion || !kind || !name) throw new Error('the regarding object needs apiVersion, kind and metadata.name');
    const now = this.now();
    this.sweep(now);
    const note = event.note.length > 1024 ? `${event.note.slice(0, 1021)}...` : event.note;
    // A digest of what makes repeats the same Event, not the text itself (the note alone may be 1 kB).
    const key = createHash('sha256').update(JSON.stringify([uid ?? `${kind}/${namespace}/${name}`, event.type, event.reason, event.action, note])).digest('base64');
    let series = this.series.get(key);
    if (series && now - series.lastObservedAt > this.windowMs) series = undefined; // quiet for long: a new Event
    if (series) {
      series.count++;
      series.lastObservedAt = now;
      this.series.delete(key); // to the end: the map's order is the order of last observation
      this.series.set(key, series);
    } else {
      const eventNamespace = namespace || 'default'; // cluster-scoped objects' Events live in 'default'
      series = { namespace: eventNamespace, name: `${name}.${randomBytes(8).toString('hex')}`, count: 1, written: 0, lastObservedAt: now, chain: settled, due: undefined };
      this.series.set(key, series);
      this.scheduleSweep();
    }
    // eventTime: when the series started, unless it is written already (then only a re-created Event reads it).
    series.due = {
      event: { type: event.type, reason: event.reason, action: event.action, note },
      regarding: { apiVersion, kind, name, namespace, uid, resourceVersion },
      eventTime: series.due?.eventTime ?? now,
    };
    const target = series;
    const chain = target.chain
      .then(() => this.writes.add(() => this.write(target)))
      .catch((err: unknown) => {
        this.log.error({ err, event: `${target.namespace}/${target.name}`, reason: event.reason }, 'cannot write event');
      })
      .finally(() => {
        if (target.chain !== chain) return;
        target.chain = settled;
        this.trim();
      });
    target.chain = chain;
  }

  /** Brings the API server up to `series.count`: create the Event once, then patch its series. */
  private async write(series: Series): Promise<void> {
    const count = series.count;
    const due = series.due;
    if (count === series.written || !due) return; // an earlier write already covered this repeat
    const collection = resourcePath(resources.events, { namespace: series.namespace });
    const patch = { series: { count, lastObservedTime: microTime(series.lastObservedAt) } };
    if (series.written === 0) {
      // Repeats may have arrived before the first write: then the Event starts as a series.
      const body = this.eventOf(series, due);
      await this.client.send('POST', collection, { body: count > 1 ? { ...body, ...patch } : body });
    } else {
      try {
        await this.client.send('PATCH', `${collection}/${encodeURIComponent(series.name)}`, { body: patch, contentType: contentTypes.mergePatch });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The Event expired (the API server keeps Events about an hour): start over with a new one.
        await this.client.send('POST', collection, { body: { ...this.eventOf(series, due), series: patch.series } });
      }
    }
    series.written = count;
    if (series.count === count) series.due = undefined; // a repeat that came meanwhile still needs it
  }

  private eventOf(series: Series, due: NonNullable<Series['due']>): Record<string, unknown> {
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: series.name, namespace: series.namespace },
      eventTime: microTime(due.eventTime),
      reportingController: this.options.reportingController,
      reportingInstance: this.options.reportingInstance,
      ...due.event,
      regarding: due.regarding,
    };
  }

  /**
   * Forgets the least recently observed written series beyond maxSeries. A first start records a series per object
   * judged (9000 at 1000 services: Accepted, Programmed, ...), most never repeat, and the window keeps them 6
   * minutes. Writes finish in the order series were recorded, so the oldest is nearly always done: a few looks.
   */
  private trim(): void {
    let looks = 16;
    for (const [key, s] of this.series) {
      if (this.series.size <= this.maxSeries || looks-- === 0) return;
      if (s.count === s.written && s.chain === settled) this.series.delete(key);
    }
  }

  /** Forgets series that ended, so memory stays bounded by the events of the last window. */
  private sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, s] of this.series) if (now - s.lastObservedAt > this.windowMs && s.count === s.written) this.series.delete(key);
  }

  /**
   * Sweeping only when an event is recorded would keep a start-up burst's series (one per object judged: 3000 at
   * 1000 services, ~6 MiB) for good once the operator is at rest. A timer, unref'd so it never holds the process
   * open, sweeps a window after the first series it finds, and again while any are left.
   */
  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweep(this.now(), true);
      if (this.series.size > 0) this.scheduleSweep();
    }, this.windowMs + 1_000);
    this.sweepTimer.unref();
  }
}
