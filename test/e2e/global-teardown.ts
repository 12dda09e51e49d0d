import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function globalTeardown(): void {
  const clusterDir = process.env.WEFT_E2E_OWNED_CLUSTER_DIR;
  if (!clusterDir) return; // the cluster came from KUBECONFIG: not ours to stop
  execFileSync(join(import.meta.dirname, '..', '..', 'hack/cluster/down.sh'), {
    env: { ...process.env, WEFT_CLUSTER_DIR: clusterDir, WEFT_KEEP_CLUSTER_DIR: process.env.WEFT_KEEP_CLUSTER_DIR ?? '' },
    stdio: 'inherit',
  });
}
