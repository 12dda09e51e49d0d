// For unit tests: the fake API server and a quiet Manager on it (no HTTP endpoints, signals or default metrics).
import { pino } from 'pino';
import { FakeApiServer } from './fake-api-server.js';
import { Manager } from './manager.js';

export interface FakeCluster {
  server: FakeApiServer;
  manager: Manager;
  stop(): Promise<void>;
}

export async function startFakeCluster(): Promise<FakeCluster> {
  const server = new FakeApiServer();
  await server.start();
  const manager = new Manager({ access: server.access(), log: pino({ level: 'silent' }), http: false, handleSignals: false, defaultMetrics: false });
  return {
    server,
    manager,
    async stop() {
      await manager.client.close();
      await server.close();
    },
  };
}
