// MeshPolicy's Accepted condition tells the truth about proxy kinds, and refuses tracing Weft cannot configure.
import { describe, expect, it } from '@jest/globals';
import type { MeshPolicy } from '../api/index.js';
import { qualifyHost } from './hosts.js';
import { memoryLookup } from './lookup.js';
import { validateMeshPolicy } from './meshpolicy.js';

function policy(name: string, spec: MeshPolicy['spec']): MeshPolicy {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'MeshPolicy', metadata: { name, namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' }, spec };
}
const validate = (p: MeshPolicy) => validateMeshPolicy(p, memoryLookup({ meshPolicies: [p] }, qualifyHost));

describe('MeshPolicy verdict', () => {
  it('says that rateLimit and telemetry reach Envoy sidecars only', () => {
    expect(validate(policy('m', { mtls: { mode: 'STRICT' } })).message).toBe('applies to namespace shop');
    expect(validate(policy('r', { rateLimit: { requestsPerUnit: 10, unit: 'SECOND' } })).message).toBe(
      'applies to namespace shop; rateLimit applies to Envoy sidecars only: proxyless gRPC clients cannot enforce it',
    );
    expect(validate(policy('t', { rateLimit: { requestsPerUnit: 10, unit: 'SECOND' }, telemetry: { accessLog: { enabled: true } } })).message).toBe(
      'applies to namespace shop; rateLimit and telemetry apply to Envoy sidecars only: proxyless gRPC clients cannot enforce them',
    );
  });

  it('refuses a tracing provider it cannot configure, naming the field; says when tracing has no collector', () => {
    expect(validate(policy('d', { telemetry: { tracing: { provider: 'datadog', endpoint: 'dd:8126' } } }))).toMatchObject({
      accepted: false,
      reason: 'UnsupportedValue',
      message: 'spec.telemetry.tracing.provider: tracing provider "datadog" is not supported: use opentelemetry or zipkin',
    });
    // Without a collector nothing is traced: said in the message, not refused (the policy's mtls stays in force).
    expect(validate(policy('e', { mtls: { mode: 'STRICT' }, telemetry: { tracing: { samplingPercentage: 5 } } }))).toMatchObject({
      accepted: true,
      message: 'applies to namespace shop; telemetry applies to Envoy sidecars only: proxyless gRPC clients cannot enforce it; spec.telemetry.tracing has no endpoint, so nothing is traced',
    });
    expect(validate(policy('z', { telemetry: { tracing: { provider: 'zipkin', endpoint: 'zipkin:9411' } } })).accepted).toBe(true);
  });

  it('refuses source blocks and conditions that are not IPs, CIDR blocks or ports, naming the value', () => {
    const bad = validate(
      policy('a', {
        authorization: {
          action: 'ALLOW',
          rules: [
            {
              from: [{ ipBlocks: ['10.0.0.0/8', '10.0.0.0/33'], notIpBlocks: ['2001:db8::/48'] }],
              when: [{ key: 'destination.port', values: ['9080', '70000'] }, { key: 'source.ip', notValues: ['1.2.3'] }, { key: 'request.headers[x]', values: ['any'] }],
            },
          ],
        },
      }),
    );
    expect(bad).toMatchObject({ accepted: false, reason: 'FieldValueInvalid' });
    expect(bad.message).toContain('spec.authorization.rules[0].from[0].ipBlocks[1]: "10.0.0.0/33" is not an IP address or a CIDR block');
    expect(bad.message).toContain('spec.authorization.rules[0].when[0].values[1]: "70000" is not a port number (destination.port)');
    expect(bad.message).toContain('spec.authorization.rules[0].when[1].notValues[0]: "1.2.3" is not an IP address or a CIDR block (source.ip)');
    expect(bad.message).not.toContain('notIpBlocks');
  });
});
