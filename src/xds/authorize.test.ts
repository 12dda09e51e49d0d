// On the authenticated port a caller gets config only for proxies of its own namespace, and a gateway's (its TLS
// private keys) only as the gateway's own ServiceAccount; the server ends a refused stream with PERMISSION_DENIED
// before sending anything, and closes one whose authorization stops holding.
import { describe, expect, it } from '@jest/globals';
import type { Gateway } from '../api/index.js';
import { authorizeProxy } from './authorize.js';
import { ResourceCache } from './cache.js';
import { TypeUrl } from './protos.js';
import { AdsServer } from './server/ads-server.js';
import { proxyFromNode } from './server/proxy.js';
import { AdsTestClient } from './testing/ads-client.js';

const edge = { metadata: { namespace: 'shop', name: 'edge' }, spec: { selector: { app: 'edge' }, servers: [], deployment: {} } } as unknown as Gateway;
const byo = { metadata: { namespace: 'shop', name: 'byo', annotations: { 'gateway.weft.dev/service-account': 'byo-proxy' } }, spec: { selector: { app: 'byo' }, servers: [] } } as unknown as Gateway;
const unbound = { metadata: { namespace: 'shop', name: 'unbound' }, spec: { selector: { app: 'unbound' }, servers: [] } } as unknown as Gateway;
const gateways = (ns: string, name: string) => [edge, byo, unbound].find((g) => g.metadata.namespace === ns && g.metadata.name === name);
const node = (id: string) => proxyFromNode({ id, cluster: '', metadata: {}, user_agent_name: 'envoy' });
const caller = (namespace: string, serviceAccount: string) => ({ trustDomain: 'cluster.local', namespace, serviceAccount });

describe('authorizeProxy', () => {
  it('lets only the ServiceAccount of a gateway Weft deploys fetch its config', () => {
    expect(authorizeProxy(node('router~shop~edge~edge-0'), caller('shop', 'edge'), gateways)).toBeUndefined();
    expect(authorizeProxy(node('router~shop~edge~edge-0'), caller('shop', 'reviews'), gateways)).toBe(
      'spiffe://cluster.local/ns/shop/sa/reviews may not receive the config of gateway shop/edge: only its ServiceAccount edge may',
    );
  });

  it('gives a gateway Weft does not deploy only to the ServiceAccount its annotation names, and a missing one to nobody', () => {
    expect(authorizeProxy(node('router~shop~byo~byo-0'), caller('shop', 'byo-proxy'), gateways)).toBeUndefined();
    expect(authorizeProxy(node('router~shop~byo~byo-0'), caller('shop', 'anyone'), gateways)).toMatch(/gateway shop\/byo: only its ServiceAccount byo-proxy may$/);
    expect(authorizeProxy(node('router~shop~unbound~u-0'), caller('shop', 'anyone'), gateways)).toMatch(/names no ServiceAccount in annotation gateway.weft.dev\/service-account$/);
    expect(authorizeProxy(node('router~shop~future~f-0'), caller('shop', 'future'), gateways)).toMatch(/gateway shop\/future: no such Gateway$/);
    expect(authorizeProxy(node('router~shop~byo~byo-0'), caller('other', 'byo-proxy'), gateways)).toMatch(/may not receive the config of gateway shop\/byo: it is in another namespace$/);
  });

  it('holds sidecars and proxyless clients to their caller\'s namespace; leaves unauthenticated (loopback) streams alone', () => {
    expect(authorizeProxy(node('sidecar~127.0.0.2~reviews-v1.shop~shop.svc.cluster.local'), caller('shop', 'reviews'), gateways)).toBeUndefined();
    expect(authorizeProxy(node('sidecar~127.0.0.2~reviews-v1.shop~shop.svc.cluster.local'), caller('other', 'x'), gateways)).toBe(
      'spiffe://cluster.local/ns/other/sa/x may not receive the config of node sidecar~127.0.0.2~reviews-v1.shop~shop.svc.cluster.local: it is in namespace shop, not other',
    );
    expect(authorizeProxy(node('just-a-name'), caller('shop', 'x'), gateways)).toMatch(/the node id names no namespace/);
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

describe('AdsServer reauthorize', () => {
  it('ends a stream whose authorization stopped holding with PERMISSION_DENIED, and leaves the others', async () => {
    const cache = new ResourceCache();
    let revoked = false;
    const server = new AdsServer({
      openView: () => cache.acquireView(['mesh']),
      authorize: (proxy) => (revoked && proxy.gateway ? 'its Gateway now runs as another ServiceAccount' : undefined),
    });
    const client = new AdsTestClient(`127.0.0.1:${await server.listen('127.0.0.1', 0)}`);
    try {
      const gateway = client.sotw();
      gateway.send({ node: { id: 'router~shop~edge~edge-0' }, type_url: TypeUrl.listener });
      expect((await gateway.next()).type_url).toBe(TypeUrl.listener);
      const sidecar = client.sotw();
      sidecar.send({ node: { id: 'sidecar~127.0.0.2~a.shop~shop.svc.cluster.local' }, type_url: TypeUrl.listener });
      expect((await sidecar.next()).type_url).toBe(TypeUrl.listener);
      revoked = true;
      expect(server.reauthorize()).toBe(1);
      await expect(gateway.next()).rejects.toMatchObject({ code: 7, details: 'its Gateway now runs as another ServiceAccount' });
      expect([...server.connected()].map((s) => s.proxy?.id)).toEqual(['sidecar~127.0.0.2~a.shop~shop.svc.cluster.local']);
      sidecar.close();
    } finally {
      client.close();
      server.stop();
    }
  });
});
