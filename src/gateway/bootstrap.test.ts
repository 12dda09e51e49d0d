// The Envoy bootstrap is valid Envoy v3 config: checked field by field against the real protos.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Gateway } from '../api/index.js';
import { checkMessage } from '../xds/proto-check.js';
import { envoyRootWithOptions } from '../xds/protos.js';
import type { ProtoMessage } from '../xds/resource.js';
import { bootstrapObjectForm as toObjectForm } from '../xds/testing/bootstrap-form.js';
import { envoyBootstrap } from './bootstrap.js';

beforeAll(() => {
  envoyRootWithOptions().loadSync(['envoy/config/bootstrap/v3/bootstrap.proto', 'envoy/extensions/filters/http/health_check/v3/health_check.proto'], { keepCase: true });
  envoyRootWithOptions().resolveAll();
});

const gw: Gateway = {
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Gateway',
  metadata: { name: 'edge', namespace: 'shop' },
  spec: { selector: { app: 'edge' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
};

describe('envoyBootstrap', () => {
  it('passes the strict check against envoy.config.bootstrap.v3.Bootstrap', () => {
    const bootstrap = toObjectForm(envoyBootstrap(gw)) as ProtoMessage;
    expect(checkMessage('envoy.config.bootstrap.v3.Bootstrap', bootstrap)).toEqual([]);
  });

  it('would catch a misspelt field', () => {
    const bootstrap = toObjectForm({ ...envoyBootstrap(gw), dynamic_resource: {} }) as ProtoMessage;
    expect(checkMessage('envoy.config.bootstrap.v3.Bootstrap', bootstrap)).toEqual([
      'envoy.config.bootstrap.v3.Bootstrap.dynamic_resource: no such field in envoy.config.bootstrap.v3.Bootstrap',
    ]);
  });
});
