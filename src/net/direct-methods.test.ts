// Direct methods against a real grpc-js client over loopback: messages in order (a burst too), replies, the status a
// handler sends, a half-close, a client's cancel, a handler that starts late, and other methods untouched.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DirectMethods, type DirectHandler, type DirectListener } from './direct-methods.js';

const identity = (b: Buffer): Buffer => b;
const text = (b: Buffer): string => b.toString();
const bytes = (s: string): Buffer => Buffer.from(s);

const definition = {
  Echo: { path: '/test.Direct/Echo', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: text, responseSerialize: identity, responseDeserialize: identity },
} satisfies grpc.ServiceDefinition;
const unaryDefinition = {
  Ping: { path: '/test.Plain/Ping', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
} satisfies grpc.ServiceDefinition;

const servers: grpc.Server[] = [];
const clients: grpc.Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.forceShutdown();
});

async function start(handler: DirectHandler): Promise<grpc.Client> {
  const direct = new DirectMethods();
  const server = new grpc.Server({ interceptors: [direct.interceptor] });
  servers.push(server);
  direct.add(server, { definition, handlers: { Echo: handler } });
  server.addService(unaryDefinition, { Ping: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.concat([bytes('pong:'), call.request])) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(client);
  return client;
}

function open(client: grpc.Client, metadata = new grpc.Metadata()) {
  const call = client.makeBidiStreamRequest<Buffer, Buffer>(definition.Echo.path, identity, identity, metadata);
  const received: string[] = [];
  call.on('data', (b: Buffer) => received.push(b.toString()));
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  return { call, received, status };
}

/** An echo handler that records what it saw, and ends the call with a status when asked to by a message `end:<code>`. */
function echo(seen: { messages: string[]; halfClosed: number; ended: number }): DirectHandler {
  return (call) => {
    const listener: DirectListener = {
      onMessage: (m) => {
        const message = m as string;
        seen.messages.push(message);
        if (message.startsWith('end:')) return call.sendStatus({ code: Number(message.slice(4)), details: `ended by ${message}` });
        call.sendMessage(bytes(`echo:${message}`), () => undefined);
      },
      onHalfClose: () => {
        seen.halfClosed++;
        call.sendStatus({ code: grpc.status.OK, details: 'OK' });
      },
      onEnd: () => seen.ended++,
    };
    return listener;
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('DirectMethods', () => {
  it('delivers every message in order, a burst included, and writes the replies', async () => {
    const seen = { messages: [] as string[], halfClosed: 0, ended: 0 };
    const { call, received, status } = open(await start(echo(seen)));
    const sent = Array.from({ length: 3000 }, (_, i) => `m${i}`);
    for (const m of sent) call.write(bytes(m));
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
    expect(seen.messages).toEqual(sent);
    expect(received).toEqual(sent.map((m) => `echo:${m}`));
    expect(seen.halfClosed).toBe(1);
    await until(() => seen.ended === 1);
    expect(seen.ended).toBe(1);
  });

  it('ends the call with the status the handler sends, and tells its listener', async () => {
    const seen = { messages: [] as string[], halfClosed: 0, ended: 0 };
    const { call, status } = open(await start(echo(seen)));
    call.write(bytes('a'));
    call.write(bytes(`end:${grpc.status.PERMISSION_DENIED}`));
    const s = await status;
    expect(s.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(s.details).toBe(`ended by end:${grpc.status.PERMISSION_DENIED}`);
    await until(() => seen.ended === 1);
    expect(seen.ended).toBe(1);
  });

  it('tells the listener when the client cancels', async () => {
    const seen = { messages: [] as string[], halfClosed: 0, ended: 0 };
    const { call, received } = open(await start(echo(seen)));
    call.write(bytes('a'));
    await until(() => received.length === 1);
    call.cancel();
    await until(() => seen.ended === 1);
    expect(seen.ended).toBe(1);
  });

  it('holds messages until a handler that starts late (authentication) has started, then delivers them all', async () => {
    const seen = { messages: [] as string[], halfClosed: 0, ended: 0 };
    let admit: () => void = () => undefined;
    const admitted = new Promise<void>((resolve) => (admit = resolve));
    const inner = echo(seen);
    const { call, received, status } = open(
      await start(async (c, metadata) => {
        await admitted;
        expect(metadata.get('x-token')).toEqual(['t']);
        return inner(c, metadata);
      }),
      withToken(),
    );
    call.write(bytes('early-1'));
    call.write(bytes('early-2'));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.messages).toEqual([]);
    admit();
    await until(() => received.length === 2);
    expect(received).toEqual(['echo:early-1', 'echo:early-2']);
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
  });

  it('lets a handler refuse the call (no listener) with a status', async () => {
    const { call, status } = open(
      await start((c) => {
        c.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'no token' });
        return undefined;
      }),
    );
    call.write(bytes('ignored'));
    const s = await status;
    expect(s.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(s.details).toBe('no token');
  });

  it('leaves the server’s other methods to grpc-js', async () => {
    const client = await start(echo({ messages: [], halfClosed: 0, ended: 0 }));
    const reply = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(unaryDefinition.Ping.path, identity, identity, bytes('x'), (err, value) => (err ? reject(err) : resolve(value!))),
    );
    expect(reply.toString()).toBe('pong:x');
  });

  it('refuses to serve a method that is not bidirectional streaming', () => {
    const direct = new DirectMethods();
    const server = new grpc.Server({ interceptors: [direct.interceptor] });
    servers.push(server);
    expect(() => direct.add(server, { definition: unaryDefinition, handlers: { Ping: () => undefined } })).toThrow(/only bidirectional streaming/);
  });
});

function withToken(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('x-token', 't');
  return metadata;
}
