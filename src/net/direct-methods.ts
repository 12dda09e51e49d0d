// Streaming gRPC methods served on grpc-js's call interface instead of its Node streams. grpc-js hands a method's
// handler an object-mode Duplex per call: a Readable and a Writable, event listeners, and a nextTick or more per
// message each way. With thousands of xDS streams that adapter is a sizeable part of the server's CPU (the
// benchmarks' transport floor spent some 15% less in a connect storm without it). A server interceptor sees the
// call below the adapter: for a method registered here it serves the call itself, through the same call object
// grpc-js's adapter would have used (framing, flow control, deadlines and status stay grpc-js's), and the handler
// grpc-js would have started is never called.
import * as grpc from '@grpc/grpc-js';

/** The call as a direct handler sees it: grpc-js's own call object, below the Duplex. */
export type DirectCall = grpc.ServerInterceptingCallInterface;

/** What a direct handler does with its call's messages, once it has started. */
export interface DirectListener {
  onMessage(message: unknown): void;
  /** The client half-closed its side (after its last message). */
  onHalfClose(): void;
  /** The call is over: cancelled by the client, its connection gone, or ended by a status the server sent. */
  onEnd(): void;
}

/**
 * Starts serving a call with its request metadata: how to handle its messages, or undefined if the handler has
 * already ended it (with a status). May take its time (authentication): messages wait in grpc-js until it is done.
 */
export type DirectHandler = (call: DirectCall, metadata: grpc.Metadata) => DirectListener | undefined | Promise<DirectListener | undefined>;

/** A service whose methods are served directly: the definition (paths, decoders) and a handler per method name. */
export interface DirectService {
  definition: grpc.ServiceDefinition;
  handlers: Record<string, DirectHandler>;
}

/** Wraps every handler of `service` (e.g. with an authentication check). */
export function mapHandlers(service: DirectService, wrap: (handler: DirectHandler, name: string) => DirectHandler): DirectService {
  const handlers: Record<string, DirectHandler> = {};
  for (const [name, handler] of Object.entries(service.handlers)) handlers[name] = wrap(handler, name);
  return { definition: service.definition, handlers };
}

/** The direct methods of one grpc-js server: give it `interceptor` when constructing it, then add services. */
export class DirectMethods {
  private readonly handlers = new Map<string, DirectHandler>();

  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    const handler = this.handlers.get(method.path);
    if (!handler) return new grpc.ServerInterceptingCall(call);
    // The handler grpc-js starts (its Duplex adapter) calls start(); the call below is served here instead.
    return new grpc.ServerInterceptingCall(call, { start: () => serve(call, handler) });
  };

  /** Serves `service` on `server`, which must have been constructed with this interceptor. */
  add(server: grpc.Server, service: DirectService): void {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(service.definition)) {
      const handler = service.handlers[name];
      if (!method.requestStream || !method.responseStream || !handler) throw new Error(`${method.path}: only bidirectional streaming methods with a handler are served directly`);
      this.handlers.set(method.path, handler);
      // grpc-js routes a path, and decodes its messages, only for a registered method; this handler is never started.
      implementation[name] = () => {
        throw new Error(`${method.path} is served by DirectMethods' interceptor`);
      };
    }
    server.addService(service.definition, implementation);
  }
}

function serve(call: DirectCall, handler: DirectHandler): void {
  let listener: DirectListener | undefined;
  let ended = false;
  // grpc-js delivers a message per startRead(), and may do it inside that call: read in a loop rather than from
  // within the delivery (a client's burst of messages would otherwise nest as deep as it is long).
  let reading = false;
  let readAgain = false;
  const read = () => {
    if (ended) return;
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      do {
        readAgain = false;
        call.startRead();
      } while (readAgain && !ended);
    } finally {
      reading = false;
    }
  };
  const begin = (started: DirectListener | undefined) => {
    listener = started;
    if (!listener) return;
    if (ended) listener.onEnd();
    else read();
  };
  call.start({
    onReceiveMetadata: (metadata) => {
      const started = handler(call, metadata);
      if (started instanceof Promise) {
        started.then(begin, () => {
          call.sendStatus({ code: grpc.status.INTERNAL, details: 'internal error while starting the call' });
        });
      } else begin(started);
    },
    onReceiveMessage: (message) => {
      listener?.onMessage(message);
      read();
    },
    onReceiveHalfClose: () => listener?.onHalfClose(),
    onCancel: () => {
      if (ended) return;
      ended = true;
      listener?.onEnd();
    },
  });
}
