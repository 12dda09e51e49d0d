// The trust bundle every namespace can mount: ConfigMap `weft-root-ca` (key root-cert.pem, like Istio's
// istio-ca-root-cert) holding every root workloads must trust right now. One reconcile per namespace; the CA
// Secret changing (a root rotation) re-queues them all. Leader only.
import type { V1ConfigMap, V1Namespace } from '@kubernetes/client-node';
import { apply, controller, resources, type Informer, type Json, type Manager, type Reconciler } from '../controllers/index.js';
import { CA_SECRET_NAME } from './state.js';
import type { CaStore, Secret } from './store.js';

export const TRUST_BUNDLE_CONFIGMAP = 'weft-root-ca';
export const TRUST_BUNDLE_KEY = 'root-cert.pem';

type ConfigMap = Json<V1ConfigMap>;
type Namespace = Json<V1Namespace>;

export function registerTrustBundleController(manager: Manager, store: CaStore, secrets: Informer<Secret>): void {
  const namespaces = manager.informer<Namespace>({ resource: resources.namespaces });
  const bundles = manager.informer<ConfigMap>({ resource: resources.configMaps, fieldSelector: `metadata.name=${TRUST_BUNDLE_CONFIGMAP}` });

  const reconciler: Reconciler = {
    async reconcile({ name }, { signal }) {
      const namespace = namespaces.get('', name);
      if (!namespace || namespace.metadata?.deletionTimestamp || namespace.status?.phase === 'Terminating') return;
      const authority = store.current();
      if (!authority) return; // the CA Secret's arrival re-queues every namespace
      const want = authority.material.trustBundle.join('');
      if (bundles.get(name, TRUST_BUNDLE_CONFIGMAP)?.data?.[TRUST_BUNDLE_KEY] === want) return;
      await apply<ConfigMap>(
        manager.client,
        resources.configMaps,
        {
          metadata: { name: TRUST_BUNDLE_CONFIGMAP, namespace: name, labels: { 'app.kubernetes.io/part-of': 'weft', 'app.kubernetes.io/component': 'ca' } },
          data: { [TRUST_BUNDLE_KEY]: want },
        },
        { fieldManager: 'weft-ca', signal },
      );
    },
  };

  const everyNamespace = (): Array<{ name: string }> => namespaces.list().map((ns) => ({ name: ns.metadata!.name! }));
  controller(manager, 'trust-bundle')
    .for(namespaces)
    .watches(bundles, (cm) => [{ name: cm.metadata!.namespace! }])
    .watches(secrets, (s) => (s.metadata?.name === CA_SECRET_NAME && s.metadata.namespace === store.namespace ? everyNamespace() : []))
    .withMaxConcurrentReconciles(4)
    .complete(reconciler);
}
