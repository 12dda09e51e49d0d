// Synthesizing a chart takes ~15 ms, and a Gateway is reconciled on every change to any object it owns (a
// Deployment's status alone changes several times per rollout): remember the last rendering of each Gateway.
// The chart (cdk8s and cdk8s-plus: ~30 MiB of RSS) is loaded on the first Gateway that asks for a deployment, so an
// operator whose mesh has none never holds it.
import type { Gateway } from '../api/index.js';
import type { GatewayChartOptions } from './chart.js';
import type { GeneratedObject } from './resources.js';

export class GatewayRenderer {
  private readonly last = new Map<string, { uid: string; generation: number; objects: GeneratedObject[] }>();

  constructor(private readonly options: GatewayChartOptions = {}) {}

  /** The objects for `gw`; rendered again only when its uid or generation (its spec) changed. */
  async render(gw: Gateway): Promise<GeneratedObject[]> {
    const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
    const uid = gw.metadata.uid ?? '';
    const generation = gw.metadata.generation ?? 0;
    const hit = this.last.get(key);
    if (hit && hit.uid === uid && hit.generation === generation) return hit.objects;
    const { renderGateway } = await import('./chart.js');
    const objects = renderGateway(gw, this.options);
    this.last.set(key, { uid, generation, objects });
    return objects;
  }

  forget(namespace: string, name: string): void {
    this.last.delete(`${namespace}/${name}`);
  }
}
