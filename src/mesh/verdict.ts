// The outcome of validating one resource against the rest of the mesh: the `Accepted` condition it earns.

/** One thing wrong with a resource: a CamelCase reason and a message that names the field. */
export interface Problem {
  reason: string;
  field: string;
  message: string;
}

export type Verdict =
  | { accepted: true; reason: 'Accepted'; message: string }
  | { accepted: false; reason: string; message: string; problems: Problem[] };

/** Accepted unless there are problems; the first problem's reason names the condition, every problem is listed. */
export function verdict(problems: Problem[], acceptedMessage: string): Verdict {
  if (problems.length === 0) return { accepted: true, reason: 'Accepted', message: acceptedMessage };
  return {
    accepted: false,
    reason: problems[0]!.reason,
    message: problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    problems,
  };
}

interface Dated {
  metadata: { creationTimestamp?: string | Date; namespace?: string; name?: string };
}

/** Istio's tie-break between resources competing for the same thing: the oldest wins, then by namespace/name. */
export function olderFirst(a: Dated, b: Dated): number {
  const at = String(a.metadata.creationTimestamp ?? '');
  const bt = String(b.metadata.creationTimestamp ?? '');
  if (at !== bt) return at < bt ? -1 : 1;
  const an = `${a.metadata.namespace}/${a.metadata.name}`;
  const bn = `${b.metadata.namespace}/${b.metadata.name}`;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

export function refOf(o: Dated): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
