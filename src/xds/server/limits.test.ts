// What one client may cost the ADS server, against the real server on 127.0.0.1: a client that stops reading is cut
// off once its unread bytes pass the cap (RESOURCE_EXHAUSTED) while another client keeps being served; a request
// naming too many resources and an unknown type URL get a clear status; an internal error says nothing of itself.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ResourceCache, type ResourceCollection } from '../cache.js';
import { TypeUrl } from '../protos.js';
import { encodeResource } from '../resource.js';
import { AdsTestClient } from '../testing/ads-client.js';
import { grpcFrame, nonReadingStream, plaintextSession, rawCall } from '../testing/raw-ads.js';
import { AdsServer } from './ads-server.js';

const node = { id: 'sidecar~127.0.0.2~p-0.shop~shop.svc.cluster.local', locality: { zone: 'z1' } };
let cache: ResourceCache;
let collection: ResourceCollection;
let server: AdsServer;
let port: number;
let limited: string[];
/** Whether the server counts streams per peer (as it does on the authenticated port). */
let countPeers = false;

/** `count` listeners of about `size` bytes each, different every `round`. */
function bigListeners(round: number, count = 20, size = 50_000) {
  return Array.from({ length: count }, (_, i) => encodeResource(TypeUrl.listener, `l${i}`, { name: `l${i}`, stat_prefix: `${round}-${'x'.repeat(size)}` }));
}

beforeEach(async () => {
  cache = new ResourceCache({ controlPlaneId: 'weft-test' });
  collection = cache.collection('mesh');
  limited = [];
  countPeers = false;
  server = new AdsServer({
    openView: () => cache.acquireView(['mesh']),
    limits: { maxPendingBytes: 2 * 1024 * 1024, maxNamesPerRequest: 100, maxStreamsPerPeer: 3 },
    countsPerPeer: (call) => countPeers && call !== undefined,
    onLimited: (proxy, reason) => limited.push(`${proxy?.proxy?.id}:${reason}`),
  });
  port = await server.listen('127.0.0.1', 0);
});
afterEach(() => server.stop());

const session = () => plaintextSession(port);

describe('xDS limits', () => {
  it('cuts off a client that stops reading, once its unread bytes pass the cap, and keeps serving the others', async () => {
    const slow = session();
    const slowEnded = nonReadingStream(slow, 'sidecar~127.0.0.9~slow-0.shop~shop.svc.cluster.local');
    const client = new AdsTestClient(`127.0.0.1:${port}`);
    try {
      const reader = client.sotw();
      reader.send({ node, type_url: TypeUrl.listener });
      await reader.next();
      for (let round = 0; round < 60 && limited.length === 0; round++) {
        collection.replaceAll(bigListeners(round));
        const response = await reader.next(10_000); // the reading client gets every push
        expect(response.resources).toHaveLength(20);
        reader.ack(response, []);
      }
      expect(limited).toEqual(['sidecar~127.0.0.9~slow-0.shop~shop.svc.cluster.local:pending-bytes']);
      // Reset, not left to wait for a status it would never read: ENHANCE_YOUR_CALM, RESOURCE_EXHAUSTED to gRPC clients.
      await expect(slowEnded).resolves.toEqual({ status: 'RST_STREAM 11', message: '' });
      // The slow stream is gone; the reading one is still served.
      expect([...server.connected()].map((s) => s.proxy?.id)).toEqual([node.id]);
      collection.replaceAll(bigListeners(1000, 1, 10));
      expect((await reader.next(10_000)).resources).toHaveLength(1);
      reader.close();
    } finally {
      slow.destroy();
      client.close();
    }
  }, 60_000);

  it('answers a malformed request and an oversized one with a gRPC status, and keeps serving', async () => {
    const s = session();
    const garbage = await rawCall(s, grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])));
    expect(garbage?.status).not.toBe('0');
    expect(garbage?.message).not.toBe('');
    const huge = await rawCall(s, grpcFrame(Buffer.alloc(5 * 1024 * 1024)));
    expect(huge?.status).toBe('8'); // RESOURCE_EXHAUSTED: over the 4 MiB request limit
    s.destroy();
    const client = new AdsTestClient(`127.0.0.1:${port}`);
    try {
      const ok = client.sotw();
      ok.send({ node, type_url: TypeUrl.listener });
      expect((await ok.next()).type_url).toBe(TypeUrl.listener);
      ok.close();
    } finally {
      client.close();
    }
  });

  it('refuses a request that names too many resources, and an unknown type URL, with a clear status', async () => {
    const client = new AdsTestClient(`127.0.0.1:${port}`);
    try {
      const greedy = client.sotw();
      greedy.send({ node, type_url: TypeUrl.endpoint, resource_names: Array.from({ length: 101 }, (_, i) => `c${i}`) });
      await expect(greedy.next()).rejects.toMatchObject({ code: 8, details: 'a request may name at most 100 resources; this one names 101' });
      expect(limited).toEqual([`${node.id}:names`]);
      const odd = client.sotw();
      odd.send({ node, type_url: 'type.googleapis.com/envoy.service.runtime.v3.Runtime' });
      await expect(odd.next()).rejects.toMatchObject({ code: 3, details: expect.stringContaining('"type.googleapis.com/envoy.service.runtime.v3.Runtime" is not served here') });
    } finally {
      client.close();
    }
  });

  it('refuses the streams a peer opens past its cap with RESOURCE_EXHAUSTED, and admits it again once one closes', async () => {
    countPeers = true;
    const client = new AdsTestClient(`127.0.0.1:${port}`);
    try {
      const streams = Array.from({ length: 5 }, () => client.sotw());
      for (const s of streams) s.send({ node, type_url: TypeUrl.listener });
      const outcomes = await Promise.all(streams.map((s) => s.next(10_000).then(() => 'served', (err: { code: number; details: string }) => `${err.code} ${err.details}`)));
      expect(outcomes.filter((o) => o === 'served')).toHaveLength(3);
      expect(outcomes.filter((o) => o !== 'served')).toEqual(Array(2).fill('8 too many xDS streams from 127.0.0.1: at most 3 may be open at once'));
      expect(limited).toEqual(['undefined:streams-per-peer', 'undefined:streams-per-peer']);
      streams[outcomes.indexOf('served')]!.close();
      await new Promise((r) => setTimeout(r, 200));
      const again = client.sotw();
      again.send({ node, type_url: TypeUrl.listener });
      expect((await again.next(10_000)).type_url).toBe(TypeUrl.listener);
      for (const stream of [...streams, again]) stream.close();
    } finally {
      client.close();
    }
  });
});
