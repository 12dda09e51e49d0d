// A looser heap limit while proxies connect by the hundred. Node's HTTP/2 reports each session's nghttp2 memory to
// V8 as external memory (about 30 KB a connection, measured), and V8 counts external memory grown since its last
// full collection against the old generation's limit; each stream also keeps some kilobytes of its own. So a
// 2000-proxy storm brings ~60 MB of external memory and ~25 MB of promoted objects, where the limit V8 leaves after
// a collection at rest (its memory reducer's, or the start-up compaction's) is ~10% over what is live: it ran two to
// five full collections inside the storm, each marking the whole heap. During a burst (connections accepted faster
// than `perSecond`: the first of a storm's collections starts within ~100 ms of it) this sets V8's
// --heap-growing-percent, so each full collection sets a limit as far above what it left as V8's own largest growing
// factor would (4x): one in a 2000-proxy storm, ~10% less of the server's CPU there (docs/benchmarks.md, "Full
// collections in a connect storm"). Once connections have been calm for `calmMs`, V8's own growth is back, before
// its memory reducer's next collection at rest sets the limit. The flag is read only when a full collection sets the
// next limit (heap-controller.cc); an operator started with the flag given keeps it.
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { ConnectBurst } from './connect-burst.js';

export interface BurstHeapGrowthOptions {
  /** Connections within one second that make a burst (default 50). */
  perSecond?: number;
  /** How far the old generation may grow past what a full collection left, in percent, during a burst (default 300). */
  percent?: number;
  /** How long without a burst before V8's own growth is back (default 3 s). */
  calmMs?: number;
  log?: Logger;
  /** Sets V8 flags (default node:v8's; tests record them). */
  setFlags?: (flags: string) => void;
  now?: () => number;
}

export class BurstHeapGrowth {
  /** The connections counted (also read by the reconcile workers: see XdsFeature). */
  readonly burst: ConnectBurst;
  private readonly percent: number;
  private readonly calmMs: number;
  private readonly setFlags: (flags: string) => void;
  private calmCheck: NodeJS.Timeout | undefined;
  /** The process was started with its own --heap-growing-percent: not ours to change. */
  private readonly disabled: boolean;

  constructor(private readonly options: BurstHeapGrowthOptions = {}) {
    this.burst = new ConnectBurst(options.perSecond ?? 50, options.now ?? performance.now.bind(performance));
    this.percent = options.percent ?? 300;
    this.calmMs = options.calmMs ?? 3_000;
    this.setFlags = options.setFlags ?? setFlagsFromString;
    this.disabled = options.setFlags === undefined && givenOnStart();
  }

  /** Whether the looser growth is in force. */
  get active(): boolean {
    return this.calmCheck !== undefined;
  }

  /** A proxy's connection came in. */
  connected(): void {
    if (!this.burst.connected() || this.disabled || this.active) return;
    this.setFlags(`--heap-growing-percent=${this.percent}`);
    this.calmCheck = setInterval(() => this.checkCalm(), 1000).unref();
    this.options.log?.debug({ percent: this.percent }, 'connect burst: old generation grows faster');
  }

  /** Back to V8's own growth (also on stop). */
  stop(): void {
    if (!this.active) return;
    clearInterval(this.calmCheck);
    this.calmCheck = undefined;
    this.setFlags('--heap-growing-percent=0');
    this.options.log?.debug('connect burst over: V8 grows the old generation its own way');
  }

  private checkCalm(): void {
    if (this.burst.sinceLastMs() >= this.calmMs) this.stop();
  }
}

function givenOnStart(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => /heap[-_]growing[-_]percent/.test(arg));
}
