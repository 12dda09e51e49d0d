// How every `kubectl weft` verb prints: a table for people (kubectl's style: upper-case headers, columns padded,
// no borders), or the same rows as JSON or YAML for scripts (`-o json|yaml`).
import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'json' | 'yaml';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

export function parseOutputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new Error(`-o/--output: expected one of ${OUTPUT_FORMATS.join(', ')}, got ${value}`);
}

/** Columns padded to their widest cell, two spaces apart, as `kubectl get` prints. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n') + '\n';
}

/** `data` as the chosen format; `asTable` renders it for people. */
export function render<T>(format: OutputFormat, data: T, asTable: (data: T) => string): string {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  if (format === 'yaml') return stringify(data);
  return asTable(data);
}

/** "3s", "4m", "2h", "5d": how long ago, as kubectl prints ages. */
export function age(fromMs: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - fromMs) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
