// Serving a gRPC service only to callers with a valid ServiceAccount token (the same TokenReview check as
// CreateCertificate): how the operator's TLS port serves xDS to `weft agent` relays. A refused call ends with
// UNAUTHENTICATED or PERMISSION_DENIED and the reason; an accepted one proceeds exactly as the service wrote it.
// (Streaming services only, served on grpc-js's call interface: net/direct-methods.ts.)
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { mapHandlers, type DirectService } from '../net/direct-methods.js';
import { bearerToken } from './service.js';
import { spiffeId } from './spiffe.js';
import type { WorkloadIdentity } from './spiffe.js';
import type { Authentication } from './token-review.js';

const CODES = { unauthenticated: status.UNAUTHENTICATED, permission_denied: status.PERMISSION_DENIED, unavailable: status.UNAVAILABLE } as const;

/** Who made each authenticated call: a service may scope what it serves by the caller (the xDS server does). */
const callers = new WeakMap<object, WorkloadIdentity>();

/** The identity whose token authenticated `call`, or undefined for a call that came another way (loopback). */
export function authenticatedCaller(call: object): WorkloadIdentity | undefined {
  return callers.get(call);
}

export function requireServiceAccount(service: DirectService, authenticate: (token: string | undefined) => Promise<Authentication>, log: Logger): DirectService {
  return mapHandlers(service, (handler, name) => async (call, metadata) => {
    // The call's messages wait in grpc-js until the handler has started, after the check.
    const auth = await authenticate(bearerToken(metadata));
    if (auth.ok) {
      log.debug({ method: name, identity: spiffeId(auth.identity), peer: call.getPeer() }, 'authenticated call');
      callers.set(call, auth.identity);
      return handler(call, metadata);
    }
    log.info({ method: name, reason: auth.message, peer: call.getPeer() }, 'refused an unauthenticated call');
    call.sendStatus({ code: CODES[auth.code], details: auth.message });
    return undefined;
  });
}
