// The CA's life on a fake clock: plan, apply, repeat, and check the invariants rotation promises.
import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { CertificateAuthority } from './authority.js';
import { certificateExpiry, spkiOf } from './certificate.js';
import { caConfigProblems, DEFAULT_CA_CONFIG, parseDuration, type CaConfig } from './config.js';
import { generateKey } from './keys.js';
import { readPluggedCa } from './plugged.js';
import { delayUntil, renewalTime } from './renewal.js';
import { planCa, type CaStep } from './rotation.js';
import { decodeState, digestOf, encodeState, signingMaterialOf, trustBundleOf, type CaState } from './state.js';
import { applyStep, newIntermediate, newRoot } from './transitions.js';

const S = 1000;
const T0 = Date.parse('2026-11-25T12:00:00Z');
const config: CaConfig = { ...DEFAULT_CA_CONFIG, rootTtlMs: 60 * S, intermediateTtlMs: 30 * S, defaultWorkloadTtlMs: 10 * S, maxWorkloadTtlMs: 10 * S };
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** Runs the CA from T0 for `seconds`, one plan (and at most one step) per simulated second. */
async function simulate(seconds: number, start?: CaState, plugged?: { digest: string; data: Record<string, string> }) {
  let state = start;
  const timeline: Array<{ t: number; step?: CaStep; state: CaState }> = [];
  for (let t = T0; t <= T0 + seconds * S; t += S) {
    // Several steps can fall due in the same second; the controller applies them one write at a time.
    for (let i = 0; i < 5; i++) {
      const plan = planCa({ state, pluggedDigest: plugged?.digest }, config, t);
      if (!plan.step) break;
      state = await applyStep(plan.step, state, plugged ? readPluggedCa(plugged.data, t) : undefined, config, t);
      if (plan.step === 'import-plugged') state.pluggedDigest = plugged!.digest;
      // The Secret round trip every replica reads.
      state = decodeState(encodeState(state, t));
      timeline.push({ t, step: plan.step, state });
    }
    timeline.push({ t, state: state! });
  }
  return timeline;
}

describe('self-signed rotation on a fake clock', () => {
  it('keeps every promise across several root rotations', async () => {
    const timeline = await simulate(200);
    const steps = timeline.filter((e) => e.step).map((e) => e.step);
    expect(steps[0]).toBe('bootstrap');
    expect(steps.filter((s) => s === 'activate-next-root').length).toBeGreaterThanOrEqual(3);
    expect(steps).toEqual(expect.arrayContaining(['prepare-next-root', 'retire-previous-roots', 'renew-intermediate']));

    const trustedSince = new Map<string, number>();
    const untrustedAt = new Map<string, number>();
    let signingRoot = '';
    for (const { t, state } of timeline) {
      const bundle = trustBundleOf(state, t).map(fingerprint);
      for (const f of bundle) if (!trustedSince.has(f)) trustedSince.set(f, t);
      for (const f of trustedSince.keys()) if (!bundle.includes(f) && !untrustedAt.has(f)) untrustedAt.set(f, t);

      const intermediate = new X509Certificate(state.intermediate.certPem);
      const root = new X509Certificate(state.root.certPem);
      // The signing chain is valid and trusted.
      expect(intermediate.verify(root.publicKey)).toBe(true);
      expect(bundle).toContain(root.fingerprint256);
      // A full-length workload certificate can always be issued.
      expect(certificateExpiry(intermediate) - t).toBeGreaterThanOrEqual(config.maxWorkloadTtlMs);

      if (root.fingerprint256 !== signingRoot) {
        if (signingRoot) {
          // A new root signs only after a full workload lifetime in every bundle...
          expect(t - trustedSince.get(root.fingerprint256)!).toBeGreaterThanOrEqual(config.maxWorkloadTtlMs);
          // ...and the old one is not dropped before its certificates could have expired.
          const retiring = signingRoot;
          const stillTrusted = timeline.filter((e) => e.t >= t && e.t < t + config.maxWorkloadTtlMs).every((e) => trustBundleOf(e.state, e.t).map(fingerprint).includes(retiring));
          expect(stillTrusted).toBe(true);
        }
        signingRoot = root.fingerprint256;
      }
    }
    // Retired roots do leave the bundle.
    expect(untrustedAt.size).toBeGreaterThanOrEqual(2);
  });

  it('sleeps until the next thing is due', async () => {
    const [first] = await simulate(0);
    const plan = planCa({ state: first!.state }, config, T0 + S);
    expect(plan.step).toBeUndefined();
    expect(plan.checkAt).toBeGreaterThan(T0 + S);
    expect(plan.checkAt).toBeLessThanOrEqual(T0 + 40 * S); // the intermediate (2/3 of 33 s) comes first
  });

  it('starts over with a new root when the old one expired while nobody was running', async () => {
    const [first] = await simulate(0);
    expect(planCa({ state: first!.state }, config, T0 + 120 * S).step).toBe('bootstrap');
  });
});

describe('renewal by certificate holders', () => {
  it('renews at half of the lifetime, jittered by 5% of it', () => {
    expect(renewalTime(0, 1000, () => 0)).toBe(450);
    expect(renewalTime(0, 1000, () => 0.5)).toBe(500);
    expect(renewalTime(0, 1000, () => 0.999)).toBeLessThan(550);
  });

  it('never waits a negative or overflowing time', () => {
    expect(delayUntil(100, 200)).toBe(0);
    expect(delayUntil(10 * 365 * 24 * 3600 * S, 0)).toBe(3_600_000);
  });
});

describe('configuration', () => {
  it('parses durations', () => {
    expect(parseDuration('1h30m')).toBe(5400 * S);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('7d')).toBe(7 * 24 * 3600 * S);
    expect(() => parseDuration('10')).toThrow(/invalid duration/);
    expect(() => parseDuration('')).toThrow();
  });

  it('refuses lifetimes that would make a rotation unsafe', () => {
    expect(caConfigProblems(DEFAULT_CA_CONFIG)).toEqual([]);
    expect(caConfigProblems(config)).toEqual([]);
    expect(caConfigProblems({ ...config, intermediateTtlMs: 20 * S })).toEqual(['the intermediate TTL must be at least 3x the maximum workload TTL']);
    expect(caConfigProblems({ ...config, rootTtlMs: 50 * S })).toContain('the root TTL must be at least 6x the maximum workload TTL');
    expect(caConfigProblems({ ...config, trustDomain: 'Bad Domain' })[0]).toMatch(/trust domain/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function userCa(): Promise<{ root: { certPem: string; keyPem: string }; intermediate: { certPem: string; keyPem: string } }> {
  const userConfig = { ...config, rootTtlMs: 3600 * S, intermediateTtlMs: 1800 * S };
  const root = await newRoot(userConfig, T0 - S);
  const intermediate = await newIntermediate(root, userConfig, T0 - S);
  return { root, intermediate };
}

describe('plug-in CA (Secret cacerts)', () => {
  it('signs with a plugged intermediate, chained to the plugged root', async () => {
    const { root, intermediate } = await userCa();
    const data = { 'ca-cert.pem': b64(intermediate.certPem), 'ca-key.pem': b64(intermediate.keyPem), 'root-cert.pem': b64(root.certPem), 'cert-chain.pem': b64(intermediate.certPem + root.certPem) };
    const plugged = readPluggedCa(data, T0);
    expect(plugged.kind).toBe('intermediate');
    const [, after] = await simulate(1, undefined, { digest: digestOf(data), data });
    expect(after!.state.source).toBe('plugged');
    const material = signingMaterialOf(encodeState(after!.state, T0));
    expect(material.certificate.fingerprint256).toBe(fingerprint(intermediate.certPem));
    expect(material.trustBundle.map(fingerprint)).toEqual([fingerprint(root.certPem)]);
    const issued = new CertificateAuthority(material).issueWorkload(spkiOf((await generateKey()).publicKey), { trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'b' }, 5 * S, T0);
    expect(new X509Certificate(issued.certChain[0]!).verify(new X509Certificate(intermediate.certPem).publicKey)).toBe(true);
    // Weft does not rotate what it does not own.
    expect(planCa({ state: after!.state, pluggedDigest: digestOf(data) }, config, T0 + 1000 * S).step).toBeUndefined();
  });

  it('with a plugged root, issues and renews its own intermediates under it', async () => {
    const { root } = await userCa();
    const data = { 'ca-cert.pem': b64(root.certPem), 'ca-key.pem': b64(root.keyPem), 'root-cert.pem': b64(root.certPem) };
    const timeline = await simulate(60, undefined, { digest: digestOf(data), data });
    const steps = timeline.filter((e) => e.step).map((e) => e.step);
    expect(steps[0]).toBe('import-plugged');
    expect(steps).toContain('renew-intermediate');
    expect(steps).not.toContain('prepare-next-root');
    expect(new X509Certificate(timeline.at(-1)!.state.intermediate.certPem).verify(new X509Certificate(root.certPem).publicKey)).toBe(true);
  });

  it('switching from the self-signed root keeps the old root trusted for a workload lifetime', async () => {
    const [first] = await simulate(0);
    const { root, intermediate } = await userCa();
    const data = { 'ca-cert.pem': b64(intermediate.certPem), 'ca-key.pem': b64(intermediate.keyPem), 'root-cert.pem': b64(root.certPem) };
    const imported = await applyStep('import-plugged', first!.state, readPluggedCa(data, T0 + S), config, T0 + S);
    const bundle = trustBundleOf(imported, T0 + 2 * S).map(fingerprint);
    expect(bundle).toEqual([fingerprint(root.certPem), fingerprint(first!.state.root.certPem)]);
    expect(trustBundleOf(imported, T0 + 12 * S).map(fingerprint)).toEqual([fingerprint(root.certPem)]);
  });

  it('says what is wrong with a broken cacerts', async () => {
    const { root, intermediate } = await userCa();
    const other = await userCa();
    expect(() => readPluggedCa({ 'ca-cert.pem': b64(intermediate.certPem) }, T0)).toThrow(/must hold ca-cert.pem and ca-key.pem/);
    expect(() => readPluggedCa({ 'ca-cert.pem': b64(intermediate.certPem), 'ca-key.pem': b64(other.intermediate.keyPem), 'root-cert.pem': b64(root.certPem) }, T0)).toThrow(/does not belong to ca-cert.pem/);
    expect(() => readPluggedCa({ 'ca-cert.pem': b64(intermediate.certPem), 'ca-key.pem': b64(intermediate.keyPem) }, T0)).toThrow(/root-cert.pem is required/);
    expect(() => readPluggedCa({ 'ca-cert.pem': b64(intermediate.certPem), 'ca-key.pem': b64(intermediate.keyPem), 'root-cert.pem': b64(other.root.certPem) }, T0)).toThrow(/no certificate in root-cert.pem signed/);
    expect(() => readPluggedCa({ 'ca-cert.pem': b64(intermediate.certPem), 'ca-key.pem': b64('nope'), 'root-cert.pem': b64(root.certPem) }, T0)).toThrow(/not a readable private key/);
    expect(() => readPluggedCa({ 'ca-cert.pem': b64(intermediate.certPem), 'ca-key.pem': b64(intermediate.keyPem), 'root-cert.pem': b64(root.certPem) }, T0 + 10_000 * S)).toThrow(/expired/);
  });
});
