// Gateway configs carry TLS private keys: on the authenticated port only the gateway's own workload gets them, and
// the server ends a refused stream with PERMISSION_DENIED before sending anything.
import { describe, expect, it } from '@jest/globals';
import type { Gateway } from '../api/index.js';
import { authorizeProxy } from './authorize.js';
import { ResourceCache } from './cache.js';
import { TypeUrl } from './protos.js';
import { AdsServer } from './server/ads-server.js';
import { proxyFromNode } from './server/proxy.js';
import { AdsTestClient } from './testing/ads-client.js';

const edge = { metadata: { namespace: 'shop', name: 'edge' }, spec: { selector: { app: 'edge' }, servers: [], deployment: {} } } as unknown as Gateway;
const byo = { metadata: { namespace: 'shop', name: 'byo' }, spec: { selector: { app: 'byo' }, servers: [] } } as unknown as Gateway;
const gateways = (ns: string, name: string) => [edge, byo].find((g) => g.metadata.namespace === ns && g.metadata.name === name);
const node = (id: string) => proxyFromNode({ id, cluster: '', metadata: {}, user_agent_name: 'envoy' });
const caller = (namespace: string, serviceAccount: string) => ({ trustDomain: 'cluster.local', namespace, serviceAccount });

describe('authorizeProxy', () => {
  it('lets only the ServiceAccount of a gateway Weft deploys fetch its config', () => {
    expect(authorizeProxy(node('router~shop~edge~edge-0'), caller('shop', 'edge'), gateways)).toBeUndefined();
    expect(authorizeProxy(node('router~shop~edge~edge-0'), caller('shop', 'reviews'), gateways)).toBe(
      'spiffe://cluster.local/ns/shop/sa/reviews may not receive the config of gateway shop/edge: only its ServiceAccount edge may',
    );
  });

  it('refuses a caller from another namespace, even for a gateway Weft does not deploy', () => {
    expect(authorizeProxy(node('router~shop~byo~byo-0'), caller('shop', 'anyone'), gateways)).toBeUndefined();
    expect(authorizeProxy(node('router~shop~byo~byo-0'), caller('other', 'byo'), gateways)).toMatch(/may not receive the config of gateway shop\/byo: it is in another namespace$/);
  });

  it('leaves sidecars, proxyless clients and unauthenticated (loopback) streams alone', () => {
    expect(authorizeProxy(node('sidecar~127.0.0.2~reviews-v1.shop~shop.svc.cluster.local'), caller('other', 'x'), gateways)).toBeUndefined();
    expect(authorizeProxy(node('router~shop~edge~edge-0'), undefined, gateways)).toBeUndefined();
  });
});

describe('AdsServer authorize', () => {
  it('ends a refused stream with PERMISSION_DENIED and the reason, and sends no config', async () => {
    const cache = new ResourceCache();
    const server = new AdsServer({ openView: () => cache.acquireView(['mesh']), authorize: (proxy) => (proxy.gateway ? 'not yours' : undefined) });
    const client = new AdsTestClient(`127.0.0.1:${await server.listen('127.0.0.1', 0)}`);
    try {
      const refused = client.sotw();
      refused.send({ node: { id: 'router~shop~edge~edge-0' }, type_url: TypeUrl.listener });
      await expect(refused.next()).rejects.toMatchObject({ code: 7, details: 'not yours' });
      const allowed = client.sotw();
      allowed.send({ node: { id: 'sidecar~127.0.0.2~a.shop~shop.svc.cluster.local' }, type_url: TypeUrl.listener });
      expect((await allowed.next()).type_url).toBe(TypeUrl.listener);
      allowed.close();
    } finally {
      client.close();
      server.stop();
    }
  });
});
