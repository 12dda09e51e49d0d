// Key pairs for the CA and for workloads. node:crypto does the cryptography (native, and it has ECDSA);
// node-forge only lays out ASN.1 elsewhere.
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export const KEY_ALGORITHMS = ['ECDSA_P256', 'RSA_2048'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ECDSA_P256';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const generate = promisify(generateKeyPair);

/** Generates a key pair off the main thread (RSA takes tens of milliseconds). */
export async function generateKey(algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): Promise<KeyPair> {
  switch (algorithm) {
    case 'ECDSA_P256':
      return generate('ec', { namedCurve: 'prime256v1' });
    case 'RSA_2048':
      return generate('rsa', { modulusLength: 2048 });
  }
}

export function isKeyAlgorithm(value: string): value is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly string[]).includes(value);
}

/** PKCS#8 PEM: what the CA Secret and the workload's key file hold. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Reads PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM, as user-supplied (plugged) CA keys come in any of them. */
export function parsePrivateKey(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' });
}

/**
 * Why a public key is not acceptable for a certificate, or undefined. ECDSA on P-256 or P-384, RSA of at least
 * 2048 bits: what gRPC, Envoy and the Kubernetes API server all accept.
 */
export function publicKeyProblem(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1'
        ? undefined
        : `EC keys must use curve P-256 or P-384, not ${details.namedCurve ?? 'an unnamed curve'}`;
    case 'rsa':
      return (details.modulusLength ?? 0) >= 2048 ? undefined : `RSA keys must have at least 2048 bits, not ${details.modulusLength}`;
    default:
      return `unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (use ECDSA P-256 or RSA 2048)`;
  }
}
