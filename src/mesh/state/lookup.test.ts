// The informer-backed lookup: exact hosts through the host index, wildcard hosts (`*.example.com`) through their own
// index, so a lookup never scans every ServiceEntry.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { FakeApiServer } from '../../controllers/fake-api-server.js';
import { startFakeCluster, type FakeCluster } from '../../controllers/fake-cluster.js';
import type { Manager } from '../../controllers/index.js';
import { serviceEntry } from '../model/testing.js';
import { Index, meshInformers } from './informers.js';
import { informerLookup } from './lookup.js';

const ENTRIES = 'weft.dev/v1alpha1/serviceentries';

let server: FakeApiServer;
let manager: Manager;

let cluster: FakeCluster;

beforeEach(async () => {
  cluster = await startFakeCluster();
  ({ server, manager } = cluster);
});
afterEach(async () => {
  await cluster.stop();
});

describe('informerLookup.serviceEntriesForHost', () => {
  it('finds exact and wildcard entries, the wildcard ones through their own index', async () => {
    server.put(ENTRIES, serviceEntry('api', 'shop', 'api.example.com') as never);
    server.put(ENTRIES, serviceEntry('wild', 'shop', '*.example.com') as never);
    server.put(ENTRIES, serviceEntry('other', 'shop', 'other.example.org') as never);
    const informers = meshInformers(manager);
    const all = Object.values(informers);
    for (const i of all) i.start();
    try {
      expect(await Promise.all(all.map((i) => i.waitForSync()))).toEqual(all.map(() => true));
      const lookup = informerLookup(informers);
      const names = (host: string) => lookup.serviceEntriesForHost(host).map((se) => se.metadata.name);
      expect(names('api.example.com')).toEqual(['api', 'wild']);
      expect(names('web.example.com')).toEqual(['wild']);
      expect(names('other.example.org')).toEqual(['other']);
      expect(informers.serviceEntries.byIndex(Index.wildcardHost, '*').map((se) => se.metadata.name)).toEqual(['wild']);
    } finally {
      await Promise.all(all.map((i) => i.stop()));
    }
  });
});
