// Gateway collections: a deploying Gateway gets its listeners, routes (from the bound VirtualServices, through the
// sidecars' route generator) and SDS secrets whether or not a proxy is connected; a gateway proxy's view adds the
// sidecars' clusters but none of their listeners; bad input keeps the last good configuration.
import { describe, expect, it } from '@jest/globals';
import type { Gateway, GatewaySpec, VirtualService } from '../api/index.js';
import type { TlsSecretData } from './generators/gateway.js';
import { memoryInputs, MeshModelStore } from '../mesh/model/index.js';
import { edited, reviewsMesh, virtualService } from '../mesh/model/testing.js';
import { ResourceCache } from './cache.js';
import { ConfigBuilder } from './config-builder.js';
import { gatewayCollection, GatewayBuilder } from './gateway-builder.js';
import { TypeUrl } from './protos.js';
import { decodeResource, type ProtoMessage } from './resource.js';

function gateway(name: string, spec: Partial<GatewaySpec>, created = '2026-01-01T00:00:00Z'): Gateway {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Gateway',
    metadata: { name, namespace: 'shop', uid: name, generation: 1, creationTimestamp: created },
    spec: { selector: { app: name }, servers: [], deployment: { replicas: 1 }, ...spec },
  };
}

const http = { port: { number: 80, name: 'http', protocol: 'HTTP' as const }, hosts: ['*'] };
const https = { port: { number: 443, name: 'https', protocol: 'HTTPS' as const }, hosts: ['reviews.example.com'], tls: { mode: 'SIMPLE' as const, credentialName: 'reviews-cert' } };
const CERT = Buffer.from('certificate').toString('base64');

function setup(extra: { gateways: Gateway[]; virtualServices?: VirtualService[] }) {
  const m = reviewsMesh();
  const objects = {
    serviceAccounts: m.serviceAccounts,
    serviceEntries: [m.serviceEntry],
    workloadEntries: [m.v1, m.v2],
    destinationRules: [m.rule],
    virtualServices: [m.split, ...(extra.virtualServices ?? [])],
    gateways: extra.gateways,
  };
  const secrets = new Map<string, TlsSecretData>();
  const inputs = memoryInputs(objects);
  const model = new MeshModelStore(inputs);
  const cache = new ResourceCache();
  new ConfigBuilder(cache, model).update(model.rebuildAll());
  const gateways = new GatewayBuilder(cache, model, { ...inputs, secret: (ns, name) => secrets.get(`${ns}/${name}`) });
  gateways.update();
  const names = (key: string, typeUrl: string) => [...cache.collection(key).resources(typeUrl).keys()].sort();
  return { m, objects, secrets, cache, gateways, names, model };
}

/** The gateway a match of `bound` names: its routes must not reach `edge`. */
const other = gateway('other', { servers: [http] });
const bound = virtualService('edge-reviews', 'shop', ['reviews.example.com'], [
  { match: [{ uri: { prefix: '/v2' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
  { match: [{ uri: { prefix: '/other' }, gateways: ['other'] }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
  { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
], { gateways: ['edge'] });

describe('GatewayBuilder', () => {
  it('serves a deploying Gateway its listener and the routes of the VirtualServices bound to it, matched for it', () => {
    const { cache, names, m } = setup({ gateways: [gateway('edge', { servers: [http] }), other], virtualServices: [bound] });
    const key = gatewayCollection('shop', 'edge');
    expect(names(key, TypeUrl.listener)).toEqual(['0.0.0.0_80']);
    const routes = decodeResource(cache.collection(key).get(TypeUrl.route, 'http.80')!);
    const [vh] = routes.virtual_hosts as ProtoMessage[];
    expect(vh!.domains).toEqual(['reviews.example.com', 'reviews.example.com:80']);
    // The match meant for another gateway is left out; destinations are the sidecars' subset clusters.
    expect((vh!.routes as ProtoMessage[]).map((r) => [(r.match as ProtoMessage).prefix, (r.route as ProtoMessage).cluster])).toEqual([
      ['/v2', `outbound|9080|v2|${m.host}`],
      ['/', `outbound|9080|v1|${m.host}`],
    ]);
    expect(cache.collection(key).get(TypeUrl.route, 'http.80')!.sourceKeys).toEqual(expect.arrayContaining(['Gateway/shop/edge', 'VirtualService/shop/edge-reviews']));
  });

  it('gives a gateway proxy its own listeners and the sidecars’ clusters, but not the sidecars’ listeners', () => {
    const { gateways, m } = setup({ gateways: [gateway('edge', { servers: [http] }), other], virtualServices: [bound] });
    const { view, release } = gateways.viewFor({ namespace: 'shop', name: 'edge' });
    expect([...view.all(TypeUrl.listener)].map((r) => r.name)).toEqual(['0.0.0.0_80']);
    expect(view.get(TypeUrl.cluster, `outbound|9080|v2|${m.host}`)).toBeDefined();
    expect(view.get(TypeUrl.endpoint, `outbound|9080|v2|${m.host}`)).toBeDefined();
    // Its own certificate files over SDS (paths only), for clusters toward STRICT workloads.
    expect([...view.all(TypeUrl.secret)].map((r) => r.name).sort()).toEqual(['ROOTCA', 'default']);
    release();
  });

  it('serves a TLS server once its Secret exists, with the certificate over SDS', () => {
    const { gateways, secrets, names, cache } = setup({ gateways: [gateway('edge', { servers: [https] }), other], virtualServices: [bound] });
    const key = gatewayCollection('shop', 'edge');
    expect(names(key, TypeUrl.listener)).toEqual([]); // a listener waiting for a missing secret would hold the port
    secrets.set('shop/reviews-cert', { data: { 'tls.crt': CERT, 'tls.key': CERT } });
    gateways.update();
    expect(names(key, TypeUrl.listener)).toEqual(['0.0.0.0_443']);
    const secret = cache.collection(key).get(TypeUrl.secret, 'kubernetes://shop/reviews-cert')!;
    expect(((decodeResource(secret).tls_certificate as ProtoMessage).certificate_chain as ProtoMessage).inline_bytes).toBe(CERT);
    secrets.delete('shop/reviews-cert');
    gateways.update();
    expect(names(key, TypeUrl.secret)).toEqual(['ROOTCA', 'default']); // only the agent's files remain
  });

  it('keeps the last accepted configuration of a Gateway that turns invalid, and drops a deleted one', () => {
    const edge = gateway('edge', { servers: [http] });
    const { objects, gateways, names } = setup({ gateways: [edge, other], virtualServices: [bound] });
    const key = gatewayCollection('shop', 'edge');
    // Moved to port 8080, which an older Gateway on the same pods serves as TCP: not accepted, so port 80 keeps
    // serving.
    const older = gateway('older', { selector: { app: 'edge' }, servers: [{ port: { number: 8080, name: 'tcp', protocol: 'TCP' }, hosts: ['*'] }], deployment: undefined }, '2025-01-01T00:00:00Z');
    objects.gateways = [edited(edge, { ...edge.spec, servers: [{ ...http, port: { ...http.port, number: 8080 } }] }), other, older];
    gateways.update();
    expect(names(key, TypeUrl.listener)).toEqual(['0.0.0.0_80']);
    objects.gateways = [];
    gateways.update();
    expect(names(key, TypeUrl.listener)).toEqual([]);
  });

  it('records a new generation as served when a spec change leaves the config as it was, without a push', () => {
    const edge = gateway('edge', { servers: [http] });
    const { objects, gateways, cache } = setup({ gateways: [edge, other], virtualServices: [bound] });
    const key = gatewayCollection('shop', 'edge');
    const pushed: unknown[] = [];
    cache.collection(key).onChange((c) => pushed.push(c));
    objects.gateways = [edited(edge, { ...edge.spec, deployment: { replicas: 3 } }), other];
    expect(gateways.update()).toBe(false);
    expect(pushed).toEqual([]);
    expect(cache.collection(key).get(TypeUrl.listener, '0.0.0.0_80')!.sources).toContainEqual(expect.objectContaining({ kind: 'Gateway', name: 'edge', generation: 2 }));
  });

  it('after a mesh push, regenerates only when a gateway-bound VirtualService routes to a changed host', () => {
    const { gateways, m, objects, cache, model } = setup({ gateways: [gateway('edge', { servers: [http] }), other], virtualServices: [bound] });
    expect(gateways.updateForHosts(new Set(['ratings.shop.svc.cluster.local']))).toBe(false);
    // reviews' port moves: the gateway's routes name the new port's clusters.
    const moved = edited(m.serviceEntry, { ...m.serviceEntry.spec, ports: [{ number: 9090, name: 'grpc', protocol: 'GRPC' }] });
    objects.serviceEntries = [moved];
    expect(gateways.updateForHosts(model.recompute(model.hostsAffectedBy({ kind: 'ServiceEntry', obj: moved })))).toBe(true);
    const [vh] = decodeResource(cache.collection(gatewayCollection('shop', 'edge')).get(TypeUrl.route, 'http.80')!).virtual_hosts as ProtoMessage[];
    expect(((vh!.routes as ProtoMessage[])[0]!.route as ProtoMessage).cluster).toBe(`outbound|9090|v2|${m.host}`);
  });

  it('sends a TCP server’s connections to the sidecars’ subset clusters, weighted as the tcp route says', () => {
    const tcp = { port: { number: 9000, name: 'tcp', protocol: 'TCP' as const }, hosts: ['*'] };
    const l4 = virtualService('edge-tcp', 'shop', ['reviews'], [], {
      gateways: ['edge'],
      tcp: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 70 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 30 }] }],
    });
    const { cache, m } = setup({ gateways: [gateway('edge', { servers: [tcp] })], virtualServices: [l4] });
    const listener = decodeResource(cache.collection(gatewayCollection('shop', 'edge')).get(TypeUrl.listener, '0.0.0.0_9000')!);
    const [chain] = listener.filter_chains as ProtoMessage[];
    expect(((chain!.filters as ProtoMessage[])[0]!.typed_config as ProtoMessage).weighted_clusters).toEqual({
      clusters: [
        { name: `outbound|9080|v1|${m.host}`, weight: 70 },
        { name: `outbound|9080|v2|${m.host}`, weight: 30 },
      ],
    });
  });

  it('takes a deleted Gateway’s listeners away from a proxy still connected', () => {
    const edge = gateway('edge', { servers: [http] });
    const { objects, gateways } = setup({ gateways: [edge] });
    const { view, release } = gateways.viewFor({ namespace: 'shop', name: 'edge' });
    expect([...view.all(TypeUrl.listener)].map((r) => r.name)).toEqual(['0.0.0.0_80']);
    objects.gateways = [];
    gateways.update();
    expect([...view.all(TypeUrl.listener)]).toEqual([]);
    objects.gateways = [edge];
    gateways.update();
    expect([...view.all(TypeUrl.listener)].map((r) => r.name)).toEqual(['0.0.0.0_80']);
    release();
  });

  it('serves a Gateway without deployment only while a proxy naming it is connected', () => {
    const { gateways, cache } = setup({ gateways: [gateway('byo', { servers: [http], deployment: undefined })] });
    const key = gatewayCollection('shop', 'byo');
    expect(cache.collectionKeys()).not.toContain(key);
    const { view, release } = gateways.viewFor({ namespace: 'shop', name: 'byo' });
    expect([...view.all(TypeUrl.listener)].map((r) => r.name)).toEqual(['0.0.0.0_80']);
    release();
    gateways.update();
    expect(cache.collectionKeys()).not.toContain(key);
  });
});
