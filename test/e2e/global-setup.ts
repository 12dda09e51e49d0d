// Gives the e2e suite a real API server: the one KUBECONFIG names, or else a local control plane that this
// run starts (hack/cluster/up.sh) in a folder of its own and stops again in global-teardown.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export default function globalSetup(): void {
  if (process.env.KUBECONFIG) {
    console.log(`\ne2e: using the cluster in KUBECONFIG=${process.env.KUBECONFIG}`);
    return;
  }
  const clusterDir = mkdtempSync(join(tmpdir(), 'weft-e2e-cluster-'));
  console.log(`\ne2e: KUBECONFIG is not set; starting a local control plane in ${clusterDir}`);
  const kubeconfig = execFileSync(join(repoRoot, 'hack/cluster/up.sh'), {
    env: { ...process.env, WEFT_CLUSTER_DIR: clusterDir },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  }).trim().split('\n').pop()!;
  // Workers are started after global setup and inherit this environment.
  process.env.KUBECONFIG = kubeconfig;
  process.env.WEFT_E2E_OWNED_CLUSTER_DIR = clusterDir;
}
