// CreateCertificate: authenticate the caller (ServiceAccount token), check the CSR (proof of possession, key
// strength), and issue a certificate for the caller's identity with the requested lifetime, capped. Every refusal
// is a gRPC status whose message says what to fix.
import { status, type Metadata, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { resolveTtl, type ValidityPolicy } from './authority.js';
import { CsrError, parseCsr } from './csr.js';
import type { CaMetrics, RequestResult } from './metrics.js';
import type { CreateCertificateRequest, CreateCertificateResponse } from './proto.js';
import { spiffeId } from './spiffe.js';
import type { CaStore } from './store.js';
import type { Authentication } from './token-review.js';

export interface CertificateServiceDeps {
  store: CaStore;
  authenticate(token: string | undefined): Promise<Authentication>;
  policy: ValidityPolicy;
  log: Logger;
  metrics?: CaMetrics;
  now?: () => number;
  /** Certificates one identity may get per minute (a looping or hostile workload cannot keep the CA signing). Default 60. */
  maxPerIdentityPerMinute?: number;
}

/** A refusal: the gRPC code, the result label for metrics, and the message for the caller. */
class Refusal extends Error {
  constructor(
    readonly code: status,
    readonly result: RequestResult,
    message: string,
  ) {
    super(message);
  }
}

const AUTH_CODES = { unauthenticated: status.UNAUTHENTICATED, permission_denied: status.PERMISSION_DENIED, unavailable: status.UNAVAILABLE } as const;

export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  const m = typeof value === 'string' ? /^Bearer\s+(\S+)$/i.exec(value.trim()) : null;
  return m?.[1];
}

export function certificateService(deps: CertificateServiceDeps): UntypedServiceImplementation {
  const now = deps.now ?? Date.now;
  const limit = deps.maxPerIdentityPerMinute ?? 60;
  /** Per identity, when its certificates of the last minute were issued (pruned as calls come). */
  const recent = new Map<string, number[]>();
  const withinLimit = (identity: string): boolean => {
    const t = now();
    const times = (recent.get(identity) ?? []).filter((at) => at > t - 60_000);
    if (times.length >= limit) {
      recent.set(identity, times);
      return false;
    }
    times.push(t);
    recent.set(identity, times);
    if (recent.size > 10_000) for (const [key, list] of recent) if (list.every((at) => at <= t - 60_000)) recent.delete(key);
    return true;
  };

  async function issue(request: CreateCertificateRequest, metadata: Metadata): Promise<{ response: CreateCertificateResponse; identity: string }> {
    const auth = await deps.authenticate(bearerToken(metadata));
    if (!auth.ok) throw new Refusal(AUTH_CODES[auth.code], auth.code, auth.message);
    const authority = deps.store.current();
    if (!authority) throw new Refusal(status.UNAVAILABLE, 'unavailable', `the CA is not ready: ${deps.store.unavailableReason()}`);
    let csr;
    try {
      csr = parseCsr(request.csr ?? '');
    } catch (err) {
      if (err instanceof CsrError) throw new Refusal(status.INVALID_ARGUMENT, 'invalid_argument', `bad CSR: ${err.message}`);
      throw err;
    }
    let ttlMs: number;
    try {
      ttlMs = resolveTtl(Number(request.validity_duration ?? 0) * 1000, deps.policy);
    } catch (err) {
      throw new Refusal(status.INVALID_ARGUMENT, 'invalid_argument', `bad validity_duration: ${(err as Error).message}`);
    }
    const identity = spiffeId(auth.identity);
    if (!withinLimit(identity)) {
      throw new Refusal(status.RESOURCE_EXHAUSTED, 'resource_exhausted', `${identity} asked for more than ${limit} certificates in a minute: retry later`);
    }
    const issued = authority.issueWorkload(csr.spki, auth.identity, ttlMs, now());
    const asked = csr.requestedUris.filter((uri) => uri !== identity);
    if (asked.length > 0) deps.log.info({ identity, requested: asked }, 'CSR asked for another identity; issued the caller\'s own');
    return {
      identity,
      response: {
        cert_chain: issued.certChain,
        trust_bundle: issued.trustBundle,
        identity,
        not_before: Math.floor(issued.notBefore / 1000),
        not_after: Math.floor(issued.notAfter / 1000),
      },
    };
  }

  return {
    CreateCertificate(call: ServerUnaryCall<CreateCertificateRequest, CreateCertificateResponse>, callback: sendUnaryData<CreateCertificateResponse>): void {
      const started = performance.now();
      const done = (result: RequestResult): void => deps.metrics?.observeRequest(result, (performance.now() - started) / 1000);
      issue(call.request, call.metadata).then(
        ({ response, identity }) => {
          done('issued');
          deps.log.debug({ identity, notAfter: new Date(response.not_after * 1000).toISOString() }, 'certificate issued');
          callback(null, response);
        },
        (err: unknown) => {
          if (err instanceof Refusal) {
            done(err.result);
            deps.log.info({ code: status[err.code], reason: err.message, peer: call.getPeer() }, 'certificate request refused');
            callback({ code: err.code, details: err.message });
            return;
          }
          done('unavailable');
          deps.log.error({ err }, 'certificate request failed');
          callback({ code: status.INTERNAL, details: `internal error: ${(err as Error).message}` });
        },
      );
    },
  };
}
