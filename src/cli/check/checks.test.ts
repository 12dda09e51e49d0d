import { describe, expect, it } from '@jest/globals';
import forge from 'node-forge';
import { accessRequests, accessResult, certificatesValid, crdReady, kubernetesVersion, leaderServing, nameClashes, operatorRunning, webhookCaBundle, type Crd } from './checks.js';

const now = Date.parse('2026-12-01T00:00:00Z');

function certificate(notAfter: string): string {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2026-01-01T00:00:00Z');
  cert.validity.notAfter = new Date(notAfter);
  cert.setSubject([{ name: 'commonName', value: 'weft-root' }]);
  cert.setIssuer([{ name: 'commonName', value: 'weft-root' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const crd = (name: string, group: string, plural: string, shortNames: string[], established = true): Crd => ({
  metadata: { name },
  spec: { group, scope: 'Namespaced', names: { kind: 'X', plural, shortNames }, versions: [{ name: group === 'weft.dev' ? 'v1alpha1' : 'v1', served: true, storage: true }] },
  status: { conditions: established ? [{ type: 'Established', status: 'True' }] : [{ type: 'Established', status: 'False', message: 'not yet' }] },
} as unknown as Crd);

describe('check', () => {
  it('supports Kubernetes 1.30 and newer, including providers\' "36+" minors', () => {
    expect(kubernetesVersion({ major: '1', minor: '36+', gitVersion: 'v1.36.3-gke' }).ok).toBe(true);
    expect(kubernetesVersion({ major: '1', minor: '29', gitVersion: 'v1.29.1' })).toMatchObject({ ok: false, hint: 'upgrade the cluster to Kubernetes 1.30 or newer' });
  });

  it("fails on a CRD that takes Weft's short names, warns on Istio's same plurals", () => {
    const clashes = nameClashes([crd('virtualservices.networking.istio.io', 'networking.istio.io', 'virtualservices', ['vs']), crd('things.example.com', 'example.com', 'things', ['wvs'])]);
    expect(clashes.map((r) => [r.ok, r.warning ?? false])).toEqual([[true, true], [false, false]]);
    expect(clashes[1]!.message).toBe('CRD things.example.com claims the short name wvs of virtualservices.weft.dev');
    expect(clashes[0]!.hint).toContain('kubectl get wvs or virtualservices.weft.dev');
    expect(nameClashes([crd('virtualservices.weft.dev', 'weft.dev', 'virtualservices', ['wvs'])])).toMatchObject([{ ok: true }]);
  });

  it('wants each CRD present and Established at v1alpha1', () => {
    expect(crdReady('VirtualService', undefined)).toMatchObject({ ok: false, hint: 'install Weft: kubectl apply -f manifests/' });
    expect(crdReady('VirtualService', crd('virtualservices.weft.dev', 'weft.dev', 'virtualservices', ['wvs'], false))).toMatchObject({ ok: false, message: 'CRD virtualservices.weft.dev is not Established: not yet' });
    expect(crdReady('VirtualService', crd('virtualservices.weft.dev', 'weft.dev', 'virtualservices', ['wvs'])).ok).toBe(true);
  });

  it('takes a held Lease as a running operator, and calls a Lease not renewed within its duration stale', () => {
    const lease = (secondsAgo: number) => ({ spec: { holderIdentity: 'weft-0', leaseDurationSeconds: 15, renewTime: new Date(now - secondsAgo * 1000).toISOString() } }) as never;
    expect(operatorRunning(undefined, lease(3), now)).toMatchObject({ ok: true });
    expect(operatorRunning(undefined, undefined, now)).toMatchObject({ ok: false });
    expect(operatorRunning({ spec: { replicas: 2 }, status: { readyReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] } } as never, undefined, now).ok).toBe(true);
    expect(leaderServing(lease(3), now)).toMatchObject({ ok: true, message: 'leader weft-0 renewed the Lease 3s ago' });
    expect(leaderServing(lease(60), now)).toMatchObject({ ok: false, message: 'the leader Lease is stale: weft-0 last renewed it 60s ago (duration 15s)' });
  });

  it('wants a caBundle of certificates on every webhook', () => {
    const pem = certificate('2027-12-01T00:00:00Z');
    const config = (caBundle?: string) => ({ webhooks: [{ name: 'sidecar.weft.dev', clientConfig: caBundle === undefined ? {} : { caBundle } }] }) as never;
    expect(webhookCaBundle(config(), 'w')).toMatchObject({ ok: false, message: 'webhook sidecar.weft.dev of w has no caBundle: the API server cannot call the injector' });
    expect(webhookCaBundle(config(Buffer.from('junk').toString('base64')), 'w').ok).toBe(false);
    expect(webhookCaBundle(config(Buffer.from(pem).toString('base64')), 'w').ok).toBe(true);
  });

  it('fails a CA certificate that expired or expires within 30 days', () => {
    expect(certificatesValid('bundle', certificate('2027-12-01T00:00:00Z'), now)).toMatchObject({ ok: true });
    expect(certificatesValid('bundle', certificate('2026-12-15T00:00:00Z'), now)).toMatchObject({ ok: false, message: expect.stringContaining('expires in 14 days') });
    expect(certificatesValid('bundle', certificate('2026-11-01T00:00:00Z'), now)).toMatchObject({ ok: false, message: expect.stringContaining('expired') });
    expect(certificatesValid('bundle', '', now)).toMatchObject({ ok: false, message: 'bundle holds no certificate' });
  });

  it('turns RBAC rules into one access review per verb, resource and name, and lists the denied ones', () => {
    const requests = accessRequests([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['l'], verbs: ['get', 'update'] }, { apiGroups: ['weft.dev'], resources: ['gateways/status'], verbs: ['patch'] }], 'weft-system');
    expect(requests).toEqual([
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'get', name: 'l', namespace: 'weft-system' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', name: 'l', namespace: 'weft-system' },
      { group: 'weft.dev', resource: 'gateways', subresource: 'status', verb: 'patch', namespace: 'weft-system' },
    ]);
    const r = accessResult('sa', requests.map((request, i) => ({ request, allowed: i !== 2 })), 'apply manifests/');
    expect(r).toMatchObject({ ok: false, message: 'sa may not: patch weft.dev/gateways/status in weft-system', hint: 'apply manifests/' });
  });
});
