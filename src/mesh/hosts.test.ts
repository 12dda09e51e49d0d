// Host resolution as Istio's ResolveShortnameToFQDN: only a name without a dot is a Service of the rule's namespace.
import { describe, expect, it } from '@jest/globals';
import { memoryInputs, MeshModelStore } from './model/index.js';
import { serviceEntry, virtualService, workloadEntry } from './model/testing.js';
import { hostMatches, qualifyHost } from './hosts.js';

describe('qualifyHost', () => {
  it('expands a short name to a Service of the namespace and leaves every name with a dot as written', () => {
    expect(qualifyHost('reviews', 'shop')).toBe('reviews.shop.svc.cluster.local');
    expect(qualifyHost('pypi.org', 'shop')).toBe('pypi.org');
    expect(qualifyHost('reviews.shop.svc.cluster.local', 'other')).toBe('reviews.shop.svc.cluster.local');
    expect(qualifyHost('*', 'shop')).toBe('*');
    expect(qualifyHost('*.example.com', 'shop')).toBe('*.example.com');
  });

  it('matches wildcards on one or more leading labels', () => {
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
  });
});

describe('a two-label external host', () => {
  it('is the ServiceEntry host a VirtualService of another namespace routes for, not a Service "github" in namespace "com"', () => {
    const entry = serviceEntry('github', 'egress', 'github.com', [{ number: 443, name: 'https', protocol: 'HTTPS' }], { location: 'MESH_EXTERNAL' });
    const backend = workloadEntry('github', 'egress', '127.0.0.9', { app: 'github' });
    const route = virtualService('github', 'apps', ['github.com'], [{ route: [{ destination: { host: 'github.com' } }], timeout: '3s' }]);
    const store = new MeshModelStore(memoryInputs({ serviceEntries: [entry], workloadEntries: [backend], virtualServices: [route] }));
    store.rebuildAll();
    expect(store.service('github.com.svc.cluster.local')).toBeUndefined();
    const service = store.service('github.com');
    expect(service?.ports.map((p) => p.number)).toEqual([443]);
    expect(service?.routing?.source).toMatchObject({ kind: 'VirtualService', namespace: 'apps', name: 'github' });
  });
});
