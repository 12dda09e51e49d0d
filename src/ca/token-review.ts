// Who is calling: the caller's ServiceAccount token, verified by the API server (TokenReview) for our audience,
// which the API server must confirm. Successful reviews are cached briefly (by the token's hash, never past the
// token's own expiry, and forgotten when the ServiceAccount is deleted) so a burst of renewals costs one API call
// per workload; refusals are cached briefly too, so a caller retrying a bad token costs no TokenReview each time.
// The token's unverified claims are read only to *explain* a refusal.
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import type { RestClient } from '../controllers/index.js';
import { identityFromUsername, type WorkloadIdentity } from './spiffe.js';

export type Authentication =
  | { ok: true; identity: WorkloadIdentity }
  | { ok: false; code: 'unauthenticated' | 'permission_denied' | 'unavailable'; message: string };

export interface TokenAuthenticatorOptions {
  audience: string;
  trustDomain: string;
  /** How long a successful review is reused. Default 30 s. */
  cacheTtlMs?: number;
  /** How long a refusal is reused (the same bad token again costs no TokenReview). Default 5 s. */
  refusalTtlMs?: number;
  /** TokenReviews sent to the API server at once, and per second: a storm of new tokens cannot flood it. Default 16, 100. */
  maxConcurrentReviews?: number;
  maxReviewsPerSecond?: number;
  /** Reviews waiting beyond those: more are answered UNAVAILABLE at once (retry later). Default 2000. */
  maxQueuedReviews?: number;
  /** Cache entries kept at most (oldest dropped first). Default 10 000. */
  maxEntries?: number;
  now?: () => number;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string };
  audiences?: string[];
  error?: string;
}

/** The review itself, separate so tests and benchmarks can stand in for the API server. */
export type ReviewFn = (token: string, audience: string) => Promise<TokenReviewStatus>;

export function tokenReviewVia(client: RestClient): ReviewFn {
  return async (token, audience) => {
    const review = await client.json<{ status?: TokenReviewStatus }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } },
    });
    return review.status ?? {};
  };
}

export class TokenAuthenticator {
  private readonly cache = new Map<string, { identity: WorkloadIdentity; until: number }>();
  private readonly refused = new Map<string, { result: Authentication; until: number }>();
  /** The API server's side: bounded concurrency and rate for TokenReviews. */
  private readonly reviews: PQueue;
  private readonly inFlight = new Map<string, Promise<Authentication>>();
  private readonly now: () => number;

  constructor(
    private readonly review: ReviewFn,
    private readonly options: TokenAuthenticatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.reviews = new PQueue({ concurrency: options.maxConcurrentReviews ?? 16, intervalCap: options.maxReviewsPerSecond ?? 100, interval: 1000 });
  }

  async authenticate(token: string | undefined): Promise<Authentication> {
    if (!token) {
      return { ok: false, code: 'unauthenticated', message: `no ServiceAccount token: send "authorization: Bearer <token>" with a token for audience ${this.options.audience}` };
    }
    const key = createHash('sha256').update(token).digest('base64');
    const cached = this.cache.get(key);
    if (cached && cached.until > this.now()) return { ok: true, identity: cached.identity };
    const refusal = this.refused.get(key);
    if (refusal && refusal.until > this.now()) return refusal.result;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.reviewAndCache(token, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** A ServiceAccount was deleted (or re-created): approvals of its tokens end now. */
  forget(namespace: string, serviceAccount: string): void {
    for (const [key, entry] of this.cache) {
      if (entry.identity.namespace === namespace && entry.identity.serviceAccount === serviceAccount) this.cache.delete(key);
    }
  }

  private async reviewAndCache(token: string, key: string): Promise<Authentication> {
    const result = await this.reviewed(token, key);
    // Refusals are remembered briefly; an unavailable API server is not a verdict on the token.
    if (!result.ok && result.code !== 'unavailable') this.refused.set(key, { result, until: this.now() + (this.options.refusalTtlMs ?? 5_000) });
    if (this.refused.size > (this.options.maxEntries ?? 10_000)) {
      const now = this.now();
      for (const [k, v] of this.refused) if (v.until <= now || this.refused.size > (this.options.maxEntries ?? 10_000)) this.refused.delete(k);
    }
    return result;
  }

  private async reviewed(token: string, key: string): Promise<Authentication> {
    const { audience, trustDomain } = this.options;
    if (this.reviews.size >= (this.options.maxQueuedReviews ?? 2000)) {
      return { ok: false, code: 'unavailable', message: 'too many tokens are waiting to be verified: retry in a moment' };
    }
    let status: TokenReviewStatus;
    try {
      status = (await this.reviews.add(() => this.review(token, audience)))!;
    } catch (err) {
      return { ok: false, code: 'unavailable', message: `cannot verify the token now (TokenReview failed: ${(err as Error).message})` };
    }
    const claims = unverifiedClaims(token);
    if (!status.authenticated) return { ok: false, code: 'unauthenticated', message: explainRefusal(claims, audience, this.now(), status.error) };
    // The API server names the audiences it checked; an answer without ours proves nothing about it.
    if (!status.audiences?.includes(audience)) {
      return { ok: false, code: 'unauthenticated', message: `the token is not confirmed valid for audience ${audience}: request it with that audience` };
    }
    const username = status.user?.username ?? '';
    const identity = identityFromUsername(username, trustDomain);
    if (!identity) {
      return { ok: false, code: 'permission_denied', message: `${username || 'the caller'} is not a ServiceAccount: workload certificates are issued to ServiceAccount tokens only` };
    }
    const expiresAt = typeof claims?.exp === 'number' ? claims.exp * 1000 : Infinity;
    this.remember(key, { identity, until: Math.min(this.now() + (this.options.cacheTtlMs ?? 30_000), expiresAt) });
    return { ok: true, identity };
  }

  private remember(key: string, entry: { identity: WorkloadIdentity; until: number }): void {
    const max = this.options.maxEntries ?? 10_000;
    if (this.cache.size >= max) {
      const now = this.now();
      for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
      while (this.cache.size >= max) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, entry);
  }
}

interface Claims {
  exp?: number;
  aud?: string | string[];
}

/** The JWT payload, unverified, or undefined if the token is not a JWT. Never used to accept a token. */
function unverifiedClaims(token: string): Claims | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
  } catch {
    return undefined;
  }
}

/** Says why the API server refused a token, in terms a person can act on. */
export function explainRefusal(claims: Claims | undefined, audience: string, now: number, apiError: string | undefined): string {
  if (!claims) return `the token is not a ServiceAccount token (JWT)${apiError ? `: ${apiError}` : ''}`;
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= now) {
    return `the ServiceAccount token expired at ${new Date(claims.exp * 1000).toISOString()}: use a fresh projected token`;
  }
  const audiences = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(audience)) {
    return `the token is for audience ${audiences.length ? audiences.join(', ') : '(none)'}, not ${audience}: request it with audience ${audience}`;
  }
  return `the API server rejected the token${apiError ? `: ${apiError}` : ''} (is it revoked, or is its ServiceAccount or Pod deleted?)`;
}
