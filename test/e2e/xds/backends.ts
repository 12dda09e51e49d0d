// gRPC backends on distinct 127.0.0.x addresses, as a mesh's workloads (registered as WorkloadEntries). A test
// tells each how to behave and counts what it served.
import * as grpc from '@grpc/grpc-js';
import { ECHO_PATH, OTHER_PATH, echoService, type EchoReply, type EchoRequest } from './echo.js';

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'fail'; code: grpc.status }
  /** Fails calls 1, 3, 5, ... (the first of every pair). */
  | { kind: 'fail-every-other'; code: grpc.status }
  /** Fails the next `remaining` calls, then serves. */
  | { kind: 'fail-next'; remaining: number; code: grpc.status };

export interface Backend {
  name: string;
  address: string;
  port: number;
  behaviour: Behaviour;
  calls: number;
  /** When each call arrived (performance.now()), in order. */
  callTimes: number[];
  stop(): Promise<void>;
}

/** A backend on `address`, on `port` (0: a free one; Pods of one Deployment share a port, each at its own address). */
export async function startBackend(name: string, address: string, port = 0): Promise<Backend> {
  const server = new grpc.Server();
  const backend: Backend = {
    name,
    address,
    port: 0,
    behaviour: { kind: 'ok' },
    calls: 0,
    callTimes: [],
    // A graceful stop waits for in-flight calls, and a 'slow' backend may hold one forever: force it after a while.
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 5_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
  const handler: grpc.handleUnaryCall<EchoRequest, EchoReply> = (call, callback) => {
    backend.calls++;
    backend.callTimes.push(performance.now());
    const b = backend.behaviour;
    const failNext = b.kind === 'fail-next' && b.remaining > 0;
    if (failNext) b.remaining--;
    const reply = () => {
      if (b.kind === 'fail' || failNext || (b.kind === 'fail-every-other' && backend.calls % 2 === 1)) {
        callback({ code: b.code, details: `${name} failed on purpose` });
      } else callback(null, { backend: name });
    };
    const sleep = call.request.sleepMs ?? 0;
    if (sleep > 0) setTimeout(reply, sleep);
    else reply();
  };
  server.addService(echoService(ECHO_PATH), { Call: handler });
  server.addService(echoService(OTHER_PATH), { Call: handler });
  backend.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${address}:${port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  return backend;
}
