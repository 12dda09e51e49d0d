// MeshPolicy validation. Policies compose across scopes (workload > namespace > mesh); within one scope the
// oldest policy owns each of mtls, rateLimit and telemetry, and a newer one setting the same field is refused.
// Authorization rules from every policy in scope apply together, so they never conflict.
// The Accepted message says what the proxies can do with it: proxyless gRPC has no xDS for rate limits, access
// logs or tracing, so those reach Envoy sidecars only.
import { isIP } from 'node:net';
import { ROOT_NAMESPACE, type MeshPolicy } from '../api/index.js';
import { labelsKey } from './labels.js';
import type { MeshLookup } from './lookup.js';
import { olderFirst, refOf, verdict, type Problem, type Verdict } from './verdict.js';

/** Tracing providers the Envoy generator configures (src/xds/generators/telemetry.ts); the first is the default. */
export const TRACING_PROVIDERS = ['opentelemetry', 'zipkin'] as const;

const EXCLUSIVE_FIELDS = ['mtls', 'portLevelMtls', 'rateLimit', 'telemetry'] as const;

export function validateMeshPolicy(policy: MeshPolicy, lookup: MeshLookup): Verdict {
  const scope = labelsKey(policy.spec.selector?.matchLabels);
  const older = lookup
    .meshPolicies(policy.metadata.namespace!)
    .filter((o) => refOf(o) !== refOf(policy) && labelsKey(o.spec.selector?.matchLabels) === scope && olderFirst(o, policy) < 0)
    .sort(olderFirst);
  const problems: Problem[] = [];
  for (const field of EXCLUSIVE_FIELDS) {
    if (policy.spec[field] === undefined) continue;
    const owner = older.find((o) => o.spec[field] !== undefined);
    if (owner) {
      problems.push({
        reason: 'Conflict',
        field: `spec.${field}`,
        message: `MeshPolicy ${refOf(owner)} is older and already sets ${field} for the same ${scopeName(policy)}`,
      });
    }
  }
  problems.push(...authorizationValueProblems(policy));
  const tracing = policy.spec.telemetry?.tracing;
  if (tracing?.provider !== undefined && !(TRACING_PROVIDERS as readonly string[]).includes(tracing.provider)) {
    problems.push({
      reason: 'UnsupportedValue',
      field: 'spec.telemetry.tracing.provider',
      message: `tracing provider "${tracing.provider}" is not supported: use ${TRACING_PROVIDERS.join(' or ')}`,
    });
  }
  const notes = [`applies to ${scopeName(policy)}`];
  const envoyOnly = (['rateLimit', 'telemetry'] as const).filter((f) => policy.spec[f] !== undefined);
  if (envoyOnly.length > 0) {
    const many = envoyOnly.length > 1;
    notes.push(`${envoyOnly.join(' and ')} ${many ? 'apply' : 'applies'} to Envoy sidecars only: proxyless gRPC clients cannot enforce ${many ? 'them' : 'it'}`);
  }
  // The schema lets endpoint be left out; without it there is nowhere to send spans. Said, not refused: a
  // telemetry gap must not take the policy's mtls and authorization out of force.
  if (tracing && tracing.endpoint === undefined) notes.push('spec.telemetry.tracing has no endpoint, so nothing is traced');
  return verdict(problems, notes.join('; '));
}

/** Whether `value` is an IP address or a CIDR block whose prefix fits the address family. */
function isIpBlock(value: string): boolean {
  const [address, length, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  return length === undefined || (/^[0-9]{1,3}$/.test(length) && Number(length) <= (family === 4 ? 32 : 128));
}

/**
 * Values the schema cannot check within CEL's cost budget: source blocks and IP conditions must be IPs or CIDR
 * blocks, destination.port conditions port numbers. A bad one would make the RBAC filter unloadable.
 */
function authorizationValueProblems(policy: MeshPolicy): Problem[] {
  const problems: Problem[] = [];
  const check = (field: string, values: readonly string[] | undefined, valid: (v: string) => boolean, expected: string) =>
    values?.forEach((v, i) => {
      if (!valid(v)) problems.push({ reason: 'FieldValueInvalid', field: `${field}[${i}]`, message: `${JSON.stringify(v)} is not ${expected}` });
    });
  const isPort = (v: string) => /^[0-9]{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535;
  policy.spec.authorization?.rules?.forEach((rule, r) => {
    const at = `spec.authorization.rules[${r}]`;
    rule.from?.forEach((from, f) => {
      check(`${at}.from[${f}].ipBlocks`, from.ipBlocks, isIpBlock, 'an IP address or a CIDR block');
      check(`${at}.from[${f}].notIpBlocks`, from.notIpBlocks, isIpBlock, 'an IP address or a CIDR block');
    });
    rule.when?.forEach((c, w) => {
      const ipKey = c.key === 'source.ip' || c.key === 'remote.ip' || c.key === 'destination.ip';
      if (!ipKey && c.key !== 'destination.port') return;
      const [valid, expected] = ipKey ? [isIpBlock, `an IP address or a CIDR block (${c.key})`] : [isPort, 'a port number (destination.port)'];
      check(`${at}.when[${w}].values`, c.values, valid, expected);
      check(`${at}.when[${w}].notValues`, c.notValues, valid, expected);
    });
  });
  return problems;
}

export function scopeName(policy: MeshPolicy): string {
  const selector = policy.spec.selector?.matchLabels;
  const where = policy.metadata.namespace === ROOT_NAMESPACE ? 'the whole mesh' : `namespace ${policy.metadata.namespace}`;
  return selector && Object.keys(selector).length > 0 ? `workloads labelled ${labelsKey(selector)} in ${where}` : where;
}
