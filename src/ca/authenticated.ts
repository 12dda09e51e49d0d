// Serving a gRPC service only to callers with a valid ServiceAccount token (the same TokenReview check as
// CreateCertificate): how the operator's TLS port serves xDS to `weft agent` relays. A refused call ends with
// UNAUTHENTICATED or PERMISSION_DENIED and the reason; an accepted one proceeds exactly as the service wrote it.
import { status, type Metadata, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { bearerToken } from './service.js';
import { spiffeId } from './spiffe.js';
import type { WorkloadIdentity } from './spiffe.js';
import type { Authentication } from './token-review.js';

const CODES = { unauthenticated: status.UNAUTHENTICATED, permission_denied: status.PERMISSION_DENIED, unavailable: status.UNAVAILABLE } as const;

type AnyCall = { metadata: Metadata; emit(event: 'error', err: object): boolean; getPeer(): string };
type Handler = (call: AnyCall, callback?: (err: object | null) => void) => void;

/** Who made each authenticated call: a service may scope what it serves by the caller (the xDS server does). */
const callers = new WeakMap<object, WorkloadIdentity>();

/** The identity whose token authenticated `call`, or undefined for a call that came another way (loopback). */
export function authenticatedCaller(call: object): WorkloadIdentity | undefined {
  return callers.get(call);
}

export function requireServiceAccount(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  authenticate: (token: string | undefined) => Promise<Authentication>,
  log: Logger,
): UntypedServiceImplementation {
  const wrapped: UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(implementation) as Array<[string, Handler]>) {
    const unary = !definition[name]?.responseStream;
    wrapped[name] = ((call: AnyCall, callback?: (err: object | null) => void) => {
      // A stream's messages wait in its buffer until the handler attaches its listeners, after the check.
      void authenticate(bearerToken(call.metadata)).then((auth) => {
        if (auth.ok) {
          log.debug({ method: name, identity: spiffeId(auth.identity), peer: call.getPeer() }, 'authenticated call');
          callers.set(call, auth.identity);
          return handler(call, callback);
        }
        const error = { code: CODES[auth.code], details: auth.message };
        log.info({ method: name, reason: auth.message, peer: call.getPeer() }, 'refused an unauthenticated call');
        if (unary && callback) callback(error);
        else call.emit('error', error);
      });
    }) as UntypedServiceImplementation[string];
  }
  return wrapped;
}
