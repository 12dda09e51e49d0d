import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedIdentity } from './agent.js';
import { grpcBootstrap, nodeIdFor, SERVER_LISTENER_TEMPLATE } from './bootstrap.js';
import { writeCredentials } from './files.js';

const require = createRequire(import.meta.url);
const { validateBootstrapConfig } = require('@grpc/grpc-js-xds/build/src/xds-bootstrap.js') as {
  validateBootstrapConfig(o: unknown): { node: { id: string }; serverListenerResourceNameTemplate: string; certificateProviders: Record<string, unknown> };
};

describe('credential files', () => {
  it('switches cert, key and roots together, and keeps only the previous version besides the current one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-files-'));
    for (let i = 1; i <= 3; i++) await writeCredentials(dir, { certChainPem: `cert${i}`, keyPem: `key${i}`, rootsPem: `roots${i}` });
    expect(readFileSync(join(dir, 'cert-chain.pem'), 'utf8')).toBe('cert3');
    expect(readFileSync(join(dir, 'key.pem'), 'utf8')).toBe('key3');
    expect(readFileSync(join(dir, 'root-cert.pem'), 'utf8')).toBe('roots3');
    expect(readlinkSync(join(dir, 'key.pem'))).toBe(join('..data', 'key.pem'));
    expect(readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data')).toHaveLength(2);
  });
});

describe('the gRPC xDS bootstrap', () => {
  it('is accepted by grpc-js-xds, with the file_watcher provider the security config names', () => {
    const bootstrap = grpcBootstrap({
      xdsServer: '127.0.0.1:15010',
      credentialsDir: '/var/run/weft',
      nodeId: nodeIdFor('10.0.0.7', 'frontend-1', 'a'),
      locality: { region: 'r', zone: 'z', sub_zone: '' },
      metadata: { GENERATOR: 'grpc', NAMESPACE: 'a' },
      refreshInterval: '60s',
    });
    const parsed = validateBootstrapConfig(bootstrap);
    expect(parsed.node.id).toBe('sidecar~10.0.0.7~frontend-1.a~a.svc.cluster.local');
    expect(parsed.serverListenerResourceNameTemplate).toBe(SERVER_LISTENER_TEMPLATE);
    expect(Object.keys(parsed.certificateProviders)).toEqual(['default']);
  });
});

describe('the identity a token names', () => {
  it('comes from the token subject; anything else names none', () => {
    const token = `h.${Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:a:frontend' })).toString('base64url')}.s`;
    expect(expectedIdentity(token, 'cluster.local')).toBe('spiffe://cluster.local/ns/a/sa/frontend');
    expect(expectedIdentity('garbage', 'cluster.local')).toBeUndefined();
  });
});
