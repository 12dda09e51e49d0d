// XdsFeature.reconcileHoldBackMs: how long the operator's reconcile slices wait for proxies being served.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeApiServer } from '../controllers/fake-api-server.js';
import { Manager } from '../controllers/index.js';
import { XdsFeature } from './index.js';

let server: FakeApiServer;
let manager: Manager;

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  manager = new Manager({ access: server.access(), log: pino({ level: 'silent' }), http: false, handleSignals: false, defaultMetrics: false });
});

afterEach(async () => {
  await manager.client.close();
  await server.close();
});

describe('XdsFeature.reconcileHoldBackMs', () => {
  it('holds reconciles back a little while a proxy is served, a second while proxies connect by the hundred, else not', async () => {
    const xds = new XdsFeature(manager, { port: 0, log: pino({ level: 'silent' }) });
    expect(xds.reconcileHoldBackMs()).toBe(0);
    xds.connectionAccepted();
    expect(xds.reconcileHoldBackMs()).toBe(100);
    await new Promise((resolve) => setTimeout(resolve, 80)); // past the 50 ms a proxy counts as being served
    expect(xds.reconcileHoldBackMs()).toBe(0);
    for (let i = 0; i < 50; i++) xds.connectionAccepted(); // a connect burst
    expect(xds.reconcileHoldBackMs()).toBe(1000);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(xds.reconcileHoldBackMs()).toBe(1000); // a storm's streams are served for a while after they connected
  });
});
