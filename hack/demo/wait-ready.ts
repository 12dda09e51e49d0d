// `make run`'s wait for the samples, judged by the operator it started: every weft.dev object of the namespace is
// Ready for its current generation in status, and (for the kinds xDS programs) that generation is in what this
// operator serves (its debug endpoint), so a status an earlier operator left cannot pass for this one's. Bounded;
// says what is not ready and why, and stops at once if the operator exits.
//   node hack/demo/wait-ready.ts <namespace> <xds-debug-port> <operator-pid> <timeout-seconds>
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, resources } from '../../dist/api/index.js';

const [namespace, debugPort, operatorPid, timeoutSeconds] = process.argv.slice(2);
const PROGRAMMED = new Set(['VirtualService', 'DestinationRule', 'ServiceEntry', 'WorkloadEntry']);
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);

type Condition = { type: string; status: string; reason: string; message: string; observedGeneration?: number };
type Obj = { kind: string; metadata: { name: string; generation: number }; status?: { conditions?: Condition[] } };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What is not ready yet, one line each; empty when everything is. */
async function pending(): Promise<string[]> {
  const served = (await (await fetch(`http://127.0.0.1:${debugPort}/debug/resources`)).json()) as Record<string, { servedGeneration: number }>;
  const lines: string[] = [];
  for (const r of Object.values(resources)) {
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r.plural })) as { items: Obj[] };
    for (const obj of list.items) {
      const name = `${r.plural}.${GROUP}/${obj.metadata.name}`;
      const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
      if (!ready || ready.observedGeneration !== obj.metadata.generation) lines.push(`${name}: generation ${obj.metadata.generation} not judged yet`);
      else if (ready.status !== 'True') lines.push(`${name}: Ready=${ready.status} ${ready.reason}: ${ready.message}`);
      else if (PROGRAMMED.has(r.kind) && (served[`${r.kind}/${namespace}/${obj.metadata.name}`]?.servedGeneration ?? 0) < obj.metadata.generation) {
        lines.push(`${name}: generation ${obj.metadata.generation} not in what this operator serves yet`);
      }
    }
  }
  return lines;
}

const deadline = Date.now() + Number(timeoutSeconds) * 1000;
let lastReport = Date.now();
let left: string[] = ['nothing checked yet'];
while (Date.now() < deadline) {
  if (!alive(Number(operatorPid))) {
    console.error('the operator exited while the samples were being judged');
    process.exit(1);
  }
  left = await pending().catch((err: Error) => [`cannot ask yet: ${err.message}`]);
  if (left.length === 0) {
    console.log(`every object in ${namespace} is Ready, judged and served by this operator`);
    process.exit(0);
  }
  if (Date.now() - lastReport > 5000) {
    console.log(`waiting for ${left.length} object(s) in ${namespace}: ${left[0]}`);
    lastReport = Date.now();
  }
  await new Promise((r) => setTimeout(r, 250));
}
console.error(`not Ready after ${timeoutSeconds} s:\n  ${left.join('\n  ')}`);
process.exit(1);
