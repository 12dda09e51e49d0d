// Does a live object still hold what we applied? Kubernetes' equality.Semantic.DeepDerivative: every field we set
// has the same value live; fields we left unset (server defaults, other managers' fields, status) do not matter.

export function isDerivative(desired: unknown, live: unknown): boolean {
  if (desired === undefined || desired === null) return true;
  // The API server omits zero values of plain (non-pointer) fields, e.g. `hostNetwork: false`: absent is equal.
  if (live === undefined && (desired === 0 || desired === false || desired === '')) return true;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((item, i) => isDerivative(item, live[i]));
  }
  if (typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const liveFields = live as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => isDerivative(value, liveFields[key]));
  }
  return desired === live;
}
