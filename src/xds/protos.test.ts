import { describe, expect, it } from '@jest/globals';
import { envoyRoot, envoyRootWithOptions, ExtensionType, messageType, TypeUrl } from './protos.js';

describe('the operator root drops the protos\' options', () => {
  it('holds no options, while the root for checks keeps protoc-gen-validate\'s rules', () => {
    const name = 'envoy.config.route.v3.RouteConfiguration';
    expect(messageType(name).fields.name!.options).toBeUndefined();
    expect(envoyRoot().lookupType('envoy.config.route.v3.VirtualHost').fields.domains!.options).toBeUndefined();
    expect(envoyRootWithOptions().lookupType('envoy.config.route.v3.VirtualHost').fields.domains!.options).toMatchObject({
      '(validate.rules).repeated.items.string.well_known_regex': 'HTTP_HEADER_VALUE',
    });
  });

  it('encodes and decodes as the root with options does, packed repeated scalars included', () => {
    const typeName = 'envoy.config.route.v3.RetryPolicy';
    const message = { retry_on: '5xx', num_retries: { value: 3 }, retriable_status_codes: [500, 503], per_try_timeout: { seconds: 2, nanos: 0 } };
    const stripped = messageType(typeName);
    const full = envoyRootWithOptions().lookupType(typeName);
    const bytes = stripped.encode(stripped.fromObject(message)).finish();
    expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(full.encode(full.fromObject(message)).finish()).toString('hex'));
    // Packed: one length-delimited field 7 (tag 0x3a) holding both codes, not two varint fields.
    expect(Buffer.from(bytes).toString('hex')).toContain('3a04f403f703');
    expect(stripped.toObject(stripped.decode(bytes), { longs: Number })).toMatchObject({ retriable_status_codes: [500, 503], num_retries: { value: 3 } });
  });

  it('holds the types the served messages reach and no others, without the reserved names that kept the files\' text', () => {
    for (const typeUrl of [...Object.values(TypeUrl), ...Object.values(ExtensionType)]) expect(() => messageType(typeUrl)).not.toThrow();
    expect(messageType('envoy.config.core.v3.Node').fields.user_agent_name).toBeDefined(); // reached from the requests
    expect(envoyRoot().lookup('validate.FieldRules')).toBeNull(); // reached only from options
    expect(envoyRootWithOptions().lookup('validate.FieldRules')).not.toBeNull();
    expect(envoyRoot().lookup('envoy.service.discovery.v3.AggregatedDiscoveryService')).toBeNull();
    expect(envoyRootWithOptions().lookupType('envoy.config.route.v3.RouteAction').reserved.length).toBeGreaterThan(0);
    expect(envoyRoot().lookupType('envoy.config.route.v3.RouteAction').reserved).toBeUndefined();
  });
});
