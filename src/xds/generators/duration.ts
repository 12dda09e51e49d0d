// Istio durations ("1.5s", "100ms", "1h30m") as google.protobuf.Duration.
import type { ProtoMessage } from '../resource.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration string; the CRD schema guarantees the shape. */
export function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** Whole seconds in a duration string (the fraction dropped, as Istio reads a Duration's seconds). */
export function durationSeconds(text: string): number {
  return Math.floor(durationMs(text) / 1000);
}

export function protoDuration(ms: number): ProtoMessage {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

/** The duration string as a Duration, or undefined when absent. */
export function duration(text: string | undefined): ProtoMessage | undefined {
  return text === undefined ? undefined : protoDuration(durationMs(text));
}
