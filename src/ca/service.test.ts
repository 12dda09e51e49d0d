// CreateCertificate and token authentication, with the API server's TokenReview stood in for.
import { describe, expect, it } from '@jest/globals';
import { Metadata, status, type ServerUnaryCall } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import type { Informer } from '../controllers/index.js';
import { uriSans } from './certificate.js';
import { DEFAULT_CA_CONFIG } from './config.js';
import { createCsr } from './csr.js';
import { generateKey } from './keys.js';
import type { CreateCertificateRequest, CreateCertificateResponse } from './proto.js';
import { certificateService } from './service.js';
import { CA_SECRET_NAME, encodeState } from './state.js';
import { CaStore, type Secret } from './store.js';
import { explainRefusal, TokenAuthenticator, type ReviewFn } from './token-review.js';
import { applyStep } from './transitions.js';

const log = pino({ level: 'silent' });
const jwt = (claims: object): string => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('TokenAuthenticator', () => {
  const frontendToken = jwt({ sub: 'system:serviceaccount:a:frontend', aud: ['weft-ca'], exp: 2_000_000_000 });

  it('maps an authenticated ServiceAccount to its identity, and caches it briefly', async () => {
    let reviews = 0;
    const review: ReviewFn = async () => {
      reviews++;
      return { authenticated: true, user: { username: 'system:serviceaccount:a:frontend' }, audiences: ['weft-ca'] };
    };
    let now = 1_000_000;
    const auth = new TokenAuthenticator(review, { audience: 'weft-ca', trustDomain: 'cluster.local', cacheTtlMs: 30_000, now: () => now });
    const results = await Promise.all([auth.authenticate(frontendToken), auth.authenticate(frontendToken)]);
    expect(results[0]).toEqual({ ok: true, identity: { trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'frontend' } });
    expect(reviews).toBe(1); // concurrent requests share one review
    await auth.authenticate(frontendToken);
    expect(reviews).toBe(1);
    now += 31_000;
    await auth.authenticate(frontendToken);
    expect(reviews).toBe(2);
  });

  it('never caches past the token expiry', async () => {
    let reviews = 0;
    const review: ReviewFn = async () => (reviews++, { authenticated: true, user: { username: 'system:serviceaccount:a:frontend' } });
    let now = 1_000_000_000;
    const token = jwt({ exp: now / 1000 + 5 });
    const auth = new TokenAuthenticator(review, { audience: 'weft-ca', trustDomain: 'td', now: () => now });
    await auth.authenticate(token);
    now += 6000;
    await auth.authenticate(token);
    expect(reviews).toBe(2);
  });

  it('refuses non-ServiceAccount users, missing tokens and unreachable API servers with a reason', async () => {
    const user = new TokenAuthenticator(async () => ({ authenticated: true, user: { username: 'alice' }, audiences: ['weft-ca'] }), { audience: 'weft-ca', trustDomain: 'td' });
    expect(await user.authenticate('t')).toMatchObject({ ok: false, code: 'permission_denied', message: expect.stringMatching(/alice is not a ServiceAccount/) });
    expect(await user.authenticate(undefined)).toMatchObject({ ok: false, code: 'unauthenticated', message: expect.stringMatching(/no ServiceAccount token/) });
    const down = new TokenAuthenticator(async () => Promise.reject(new Error('connect ECONNREFUSED')), { audience: 'weft-ca', trustDomain: 'td' });
    expect(await down.authenticate('t')).toMatchObject({ ok: false, code: 'unavailable', message: expect.stringMatching(/TokenReview failed: connect ECONNREFUSED/) });
  });

  it('refuses an answer that does not confirm the audience, even for an authenticated ServiceAccount', async () => {
    const noAudience = new TokenAuthenticator(async () => ({ authenticated: true, user: { username: 'system:serviceaccount:a:frontend' } }), { audience: 'weft-ca', trustDomain: 'td' });
    expect(await noAudience.authenticate('t')).toMatchObject({ ok: false, code: 'unauthenticated', message: expect.stringMatching(/not confirmed valid for audience weft-ca/) });
    const other = new TokenAuthenticator(async () => ({ authenticated: true, user: { username: 'system:serviceaccount:a:frontend' }, audiences: ['api'] }), { audience: 'weft-ca', trustDomain: 'td' });
    expect(await other.authenticate('t')).toMatchObject({ ok: false, code: 'unauthenticated' });
  });

  it('remembers a refusal briefly (no TokenReview per retry), and forgets approvals when the ServiceAccount goes', async () => {
    let now = 1_000_000;
    let reviews = 0;
    let valid = false;
    const authenticator = new TokenAuthenticator(
      async () => {
        reviews++;
        return valid ? { authenticated: true, user: { username: 'system:serviceaccount:a:frontend' }, audiences: ['weft-ca'] } : { authenticated: false, error: 'invalid bearer token' };
      },
      { audience: 'weft-ca', trustDomain: 'td', now: () => now, refusalTtlMs: 5_000, cacheTtlMs: 30_000 },
    );
    expect((await authenticator.authenticate('bad')).ok).toBe(false);
    expect((await authenticator.authenticate('bad')).ok).toBe(false);
    expect(reviews).toBe(1);
    now += 6_000;
    expect((await authenticator.authenticate('bad')).ok).toBe(false);
    expect(reviews).toBe(2);

    valid = true;
    expect((await authenticator.authenticate('good')).ok).toBe(true);
    expect((await authenticator.authenticate('good')).ok).toBe(true);
    expect(reviews).toBe(3);
    // The ServiceAccount is deleted: the next call asks the API server again (which now refuses).
    authenticator.forget('a', 'frontend');
    valid = false;
    expect((await authenticator.authenticate('good')).ok).toBe(false);
    expect(reviews).toBe(4);
  });

  it('bounds the TokenReviews in flight, and answers UNAVAILABLE at once past the queue', async () => {
    let inFlight = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const authenticator = new TokenAuthenticator(
      () =>
        new Promise((resolve) => {
          inFlight++;
          most = Math.max(most, inFlight);
          release.push(() => {
            inFlight--;
            resolve({ authenticated: true, user: { username: 'system:serviceaccount:a:frontend' }, audiences: ['weft-ca'] });
          });
        }),
      { audience: 'weft-ca', trustDomain: 'td', maxConcurrentReviews: 2, maxReviewsPerSecond: 1000, maxQueuedReviews: 3 },
    );
    const pending = Array.from({ length: 5 }, (_, i) => authenticator.authenticate(`token-${i}`));
    await new Promise((r) => setTimeout(r, 10));
    expect(most).toBe(2); // two at the API server, three waiting
    expect(await authenticator.authenticate('token-5')).toMatchObject({ ok: false, code: 'unavailable', message: expect.stringMatching(/too many tokens are waiting/) });
    while (release.length > 0 || inFlight > 0) {
      release.splice(0).forEach((r) => r());
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await Promise.all(pending)).every((a) => a.ok)).toBe(true);
    expect(most).toBe(2);
  });

  it('explains refusals from the token claims', () => {
    const now = 2_000_000_000_000;
    expect(explainRefusal({ exp: now / 1000 - 60, aud: ['weft-ca'] }, 'weft-ca', now, 'token has expired')).toMatch(/expired at .*Z: use a fresh projected token/);
    expect(explainRefusal({ exp: now / 1000 + 60, aud: ['api'] }, 'weft-ca', now, undefined)).toBe('the token is for audience api, not weft-ca: request it with audience weft-ca');
    expect(explainRefusal(undefined, 'weft-ca', now, 'invalid bearer token')).toMatch(/not a ServiceAccount token \(JWT\): invalid bearer token/);
  });
});

/** A store fed directly, as the informer would. */
async function readyStore(): Promise<CaStore> {
  const now = Date.now();
  const state = await applyStep('bootstrap', undefined, undefined, DEFAULT_CA_CONFIG, now);
  let handler: { onAdd?: (s: Secret) => void } = {};
  const informer = { on: (h: typeof handler) => ((handler = h), () => {}) } as unknown as Informer<Secret>;
  const store = new CaStore('weft-system', informer, log);
  handler.onAdd!({ metadata: { namespace: 'weft-system', name: CA_SECRET_NAME, resourceVersion: '1' }, data: encodeState(state, now) });
  return store;
}

function callService(service: ReturnType<typeof certificateService>, request: CreateCertificateRequest, token?: string): Promise<CreateCertificateResponse> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const call = { request, metadata, getPeer: () => 'test' } as unknown as ServerUnaryCall<CreateCertificateRequest, CreateCertificateResponse>;
  return new Promise((resolve, reject) =>
    (service.CreateCertificate as (c: typeof call, cb: (e: { code: number; details: string } | null, r?: CreateCertificateResponse) => void) => void)(call, (err, response) =>
      err ? reject(err) : resolve(response!),
    ),
  );
}

describe('CreateCertificate', () => {
  const authenticate = async (token: string | undefined) =>
    token === 'good'
      ? ({ ok: true, identity: { trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'frontend' } } as const)
      : ({ ok: false, code: 'unauthenticated', message: 'the token is for audience api, not weft-ca' } as const);
  const policy = { defaultTtlMs: 3_600_000, maxTtlMs: 7_200_000 };

  it('issues the caller identity with the requested lifetime, capped', async () => {
    const service = certificateService({ store: await readyStore(), authenticate, policy, log });
    const csr = createCsr(await generateKey(), { uris: ['spiffe://cluster.local/ns/kube-system/sa/admin'] });
    const response = await callService(service, { csr, validity_duration: 100 * 3600 }, 'good');
    expect(response.identity).toBe('spiffe://cluster.local/ns/a/sa/frontend');
    expect(uriSans(new X509Certificate(response.cert_chain[0]!))).toEqual([response.identity]);
    expect(response.not_after - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(7200);
    expect(response.cert_chain).toHaveLength(2);
    expect(response.trust_bundle).toHaveLength(1);
  });

  it('answers with gRPC codes and messages that say what to fix', async () => {
    const service = certificateService({ store: await readyStore(), authenticate, policy, log });
    const csr = createCsr(await generateKey());
    await expect(callService(service, { csr, validity_duration: 0 }, 'bad')).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/audience/) });
    await expect(callService(service, { csr: 'junk', validity_duration: 0 }, 'good')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^bad CSR: /) });
    await expect(callService(service, { csr, validity_duration: -5 }, 'good')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/validity_duration/) });
  });

  it('refuses an identity past its certificates per minute (RESOURCE_EXHAUSTED), and serves it again a minute later', async () => {
    let clock = 1_000_000;
    const service = certificateService({ store: await readyStore(), authenticate, policy, log, maxPerIdentityPerMinute: 2, now: () => clock });
    const csr = createCsr(await generateKey());
    await callService(service, { csr, validity_duration: 0 }, 'good');
    await callService(service, { csr, validity_duration: 0 }, 'good');
    await expect(callService(service, { csr, validity_duration: 0 }, 'good')).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/asked for more than 2 certificates in a minute: retry later$/),
    });
    clock += 61_000;
    await expect(callService(service, { csr, validity_duration: 0 }, 'good')).resolves.toBeDefined();
  });

  it('is UNAVAILABLE until the CA Secret has been read', async () => {
    const informer = { on: () => () => {} } as unknown as Informer<Secret>;
    const service = certificateService({ store: new CaStore('weft-system', informer, log), authenticate, policy, log });
    await expect(callService(service, { csr: createCsr(await generateKey()), validity_duration: 0 }, 'good')).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringMatching(/the CA is not ready: the CA Secret weft-ca does not exist yet/),
    });
  });
});
