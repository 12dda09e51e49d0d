// Keeps the injection webhook's caBundle equal to Weft's trust bundle (the leader's job): the API server verifies
// the webhook's serving certificate with it, so after a root rotation (the old and new roots trusted side by side)
// Pods are still admitted. Re-applied when someone replaces the configuration (kubectl apply -f manifests/ leaves
// the field alone, a delete and re-create does not).
import type { Logger } from 'pino';
import type { ServingCertificate } from '../ca/serving.js';
import { WEBHOOK_CONFIGURATION } from './names.js';
import { contentTypes, resourcePath, type Informer, type KubeObject, type Manager, type ResourceType, type Runnable } from '../controllers/index.js';

export const mutatingWebhookConfigurations: ResourceType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'mutatingwebhookconfigurations',
  kind: 'MutatingWebhookConfiguration',
  namespaced: false,
};

type WebhookConfiguration = KubeObject & { webhooks?: Array<{ name: string; clientConfig?: { caBundle?: string } }> };

export class CaBundleKeeper implements Runnable {
  readonly needLeaderElection = true;
  private readonly informer: Informer<WebhookConfiguration>;
  private roots: string | undefined;

  constructor(
    private readonly manager: Manager,
    private readonly certificate: ServingCertificate,
    private readonly log: Logger,
  ) {
    this.informer = manager.informer<WebhookConfiguration>({ resource: mutatingWebhookConfigurations, fieldSelector: `metadata.name=${WEBHOOK_CONFIGURATION}` });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await this.informer.waitForSync(signal))) return;
    const sync = () => void this.sync(signal).catch((err: unknown) => this.log.error({ err }, 'cannot update the injection webhook caBundle; retrying on the next change'));
    const onRoots = (update: { caCertificate: Buffer } | null) => {
      if (!update) return;
      this.roots = update.caCertificate.toString('base64');
      sync();
    };
    this.certificate.addCaCertificateListener(onRoots);
    const unsubscribe = this.informer.on({ onAdd: sync, onUpdate: sync });
    // A failed patch (the API server briefly away) is retried on a timer too, not only on the next event.
    const retry = setInterval(sync, 30_000);
    retry.unref();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    clearInterval(retry);
    unsubscribe();
    this.certificate.removeCaCertificateListener(onRoots);
  }

  private async sync(signal: AbortSignal): Promise<void> {
    const roots = this.roots;
    const config = this.informer.get('', WEBHOOK_CONFIGURATION);
    if (!roots || !config) return;
    const patch = (config.webhooks ?? []).flatMap((w, i) =>
      w.clientConfig?.caBundle === roots ? [] : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: roots }],
    );
    if (patch.length === 0) return;
    await this.manager.client.json('PATCH', resourcePath(mutatingWebhookConfigurations, { name: WEBHOOK_CONFIGURATION }), {
      body: [{ op: 'test', path: '/metadata/resourceVersion', value: config.metadata?.resourceVersion }, ...patch],
      contentType: contentTypes.jsonPatch,
      signal,
    });
    this.log.info({ webhooks: patch.length }, 'injection webhook caBundle set to the current trust bundle');
  }
}
