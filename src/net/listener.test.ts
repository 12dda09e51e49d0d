// The listener's deep accept backlog: a burst of connections made while the event loop is busy all complete at
// once (with Node's default of 511 the rest wait for a SYN retransmit, a second or more).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from '@jest/globals';
import * as net from 'node:net';
import { listen, listenPlaintext, type BoundListener } from './listener.js';

/** The kernel caps the backlog at somaxconn: the burst test means something only where that allows 2000. */
function somaxconn(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  } catch {
    return 0;
  }
}

/** A child process that opens `n` connections once told to, and reports how long until all were established. */
const BURST = `
const net = require('node:net');
const [port, n] = process.argv.slice(1).map(Number);
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  const start = Date.now(); let open = 0; const sockets = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1', () => { if (++open === n) { process.stdout.write('ms ' + (Date.now() - start) + '\\n'); sockets.forEach((x) => x.destroy()); process.exit(0); } });
    s.on('error', (e) => { process.stdout.write('error ' + e.message + '\\n'); process.exit(1); });
    sockets.push(s);
  }
});`;

function burst(port: number, n: number, busyMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', BURST, String(port), String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out === 'ready\n') {
        child.stdin.write('go\n');
        // Busy, as during a connect storm: nothing is accepted until this ends, so the kernel's queue must hold them.
        const until = Date.now() + busyMs;
        while (Date.now() < until);
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim().split('\n').pop() ?? ''));
  });
}

/** Connects from `localAddress`; resolves true if the connection is still open after the server had time to close it. */
function staysOpen(port: number, localAddress: string, sockets: net.Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    let closed = false;
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.on('connect', () => setTimeout(() => resolve(!closed), 200));
  });
}

describe('listen', () => {
  let server: grpc.Server;
  let bound: BoundListener | undefined;
  afterEach(() => {
    bound?.close();
    server.forceShutdown();
  });

  it('binds a free port and closes', async () => {
    server = new grpc.Server();
    bound = await listenPlaintext(server, '127.0.0.1', 0);
    expect(bound.port).toBeGreaterThan(0);
  });

  it('closes a peer\'s connections past its cap at once, and admits other peers and that peer again once one closes', async () => {
    server = new grpc.Server();
    const refused: string[] = [];
    bound = await listen(server, grpc.ServerCredentials.createInsecure(), '127.0.0.1', 0, { maxConnectionsPerPeer: 2, onRefused: (peer) => refused.push(peer) });
    const sockets: net.Socket[] = [];
    try {
      const port = bound.port;
      expect(await staysOpen(port, '127.0.0.2', sockets)).toBe(true);
      expect(await staysOpen(port, '127.0.0.2', sockets)).toBe(true);
      expect(await staysOpen(port, '127.0.0.2', sockets)).toBe(false);
      expect(refused).toEqual(['127.0.0.2']);
      expect(await staysOpen(port, '127.0.0.3', sockets)).toBe(true); // another peer is not affected
      sockets[0]!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      expect(await staysOpen(port, '127.0.0.2', sockets)).toBe(true); // a slot was freed
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('tells of every connection it accepts, before TLS or HTTP/2, refused ones too (a storm shows there first)', async () => {
    server = new grpc.Server();
    let accepted = 0;
    bound = await listen(server, grpc.ServerCredentials.createInsecure(), '127.0.0.1', 0, { maxConnectionsPerPeer: 1, onAccepted: () => accepted++ });
    const sockets: net.Socket[] = [];
    try {
      expect(await staysOpen(bound.port, '127.0.0.2', sockets)).toBe(true);
      expect(await staysOpen(bound.port, '127.0.0.2', sockets)).toBe(false);
      expect(accepted).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  (somaxconn() >= 2048 ? it : it.skip)('holds a burst of 1500 connections while the event loop is busy', async () => {
    server = new grpc.Server();
    bound = await listenPlaintext(server, '127.0.0.1', 0);
    const result = await burst(bound.port, 1500, 300);
    expect(result).toMatch(/^ms \d+$/);
    // A dropped SYN is retried after 1 s at the earliest: everything below that was queued, none dropped.
    expect(Number(result.slice(3))).toBeLessThan(1000);
  }, 20_000);
});
