// What the mesh informers keep of each object: not managedFields nor kubectl's last-applied copy, and a
// status.lastAccepted that records the current spec shares it instead of holding a second copy.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { FakeApiServer } from '../../controllers/fake-api-server.js';
import { startFakeCluster, type FakeCluster } from '../../controllers/fake-cluster.js';
import { LAST_APPLIED_ANNOTATION, Manager } from '../../controllers/index.js';
import { serviceEntry } from '../model/testing.js';
import { persistedLastAccepted, servedFrom } from '../served.js';
import { meshInformers } from './informers.js';

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

/** A ServiceEntry as `kubectl apply` leaves it, with a status.lastAccepted for generation `lastGeneration`. */
function applied(name: string, host: string, lastGeneration: number, lastHost = host) {
  const se = serviceEntry(name, 'shop', host);
  return {
    ...se,
    metadata: {
      ...se.metadata,
      generation: 2,
      annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(se), 'team.example.com/owner': 'payments' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
    },
    status: { observedGeneration: 2, lastAccepted: { generation: lastGeneration, spec: { ...se.spec, hosts: [lastHost] } } },
  };
}

describe('mesh informers', () => {
  it('drop managedFields and the last-applied copy, keep other annotations, and share an equal lastAccepted spec', async () => {
    server.put(ENTRIES, applied('current', 'api.example.com', 2) as never);
    server.put(ENTRIES, applied('older', 'new.example.com', 1, 'old.example.com') as never);
    const informers = meshInformers(manager);
    const all = Object.values(informers);
    for (const i of all) i.start();
    try {
      await Promise.all(all.map((i) => i.waitForSync()));
      const current = informers.serviceEntries.get('shop', 'current')!;
      expect(current.metadata).not.toHaveProperty('managedFields');
      expect(current.metadata.annotations).toEqual({ 'team.example.com/owner': 'payments' });
      // Same generation, same spec: one object, so servedFrom serves the object itself.
      const last = persistedLastAccepted(current)!;
      expect(last.spec).toBe(current.spec);
      expect(servedFrom(current, last)).toBe(current);
      // An older accepted generation keeps its own spec (it is what is served while generation 2 is not accepted).
      const older = informers.serviceEntries.get('shop', 'older')!;
      expect(persistedLastAccepted(older)).toEqual({ generation: 1, spec: expect.objectContaining({ hosts: ['old.example.com'] }) });
      expect(older.spec.hosts).toEqual(['new.example.com']);
    } finally {
      await Promise.all(all.map((i) => i.stop()));
    }
  });
});
