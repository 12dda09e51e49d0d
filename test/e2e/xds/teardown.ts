// The end of a traffic e2e: clients first (they would log the operator going away as failures), then the operator,
// the backends, and the test's namespaces.
import type { RunningOperator } from '../operator.js';

interface Stoppable {
  stop(): Promise<void>;
}

export async function tearDown(parts: { clients: Stoppable[]; operator?: RunningOperator | undefined; backends: Stoppable[]; namespaces: Array<{ remove(): Promise<void> } | undefined> }): Promise<void> {
  for (const c of parts.clients) await c.stop();
  await parts.operator?.stop();
  for (const b of parts.backends) await b.stop();
  for (const ns of parts.namespaces) await ns?.remove();
}
