// Fields that are accepted but not applied are named in FieldsApplied, per client kind; applied ones are not.
import { describe, expect, it } from '@jest/globals';
import { fieldsAppliedCondition, notAppliedFields } from './not-applied.js';

describe('notAppliedFields', () => {
  it('names a DestinationRule warmup (both clients) and http2KeepAlive (gRPC), once each, at every place a traffic policy is', () => {
    const fields = notAppliedFields('DestinationRule', {
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: { simple: 'LEAST_REQUEST', warmup: { duration: '30s', aggression: 2 } },
        connectionPool: { http: { http2MaxRequests: 10, http2KeepAlive: { interval: '10s', timeout: '3s' } } },
      },
      subsets: [{ name: 'v1', trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { warmup: { duration: '5s' } } }] } }],
    });
    expect(fields).toEqual([
      { field: 'spec.trafficPolicy.loadBalancer.simple', clients: ['proxyless'], reason: expect.stringContaining('round robin') },
      { field: 'spec.trafficPolicy.loadBalancer.warmup', clients: ['envoy', 'proxyless'], reason: 'slow start (warmup) is not generated yet' },
      { field: 'spec.trafficPolicy.connectionPool.http.http2KeepAlive', clients: ['proxyless'], reason: expect.stringContaining("channel's own options") },
      { field: 'spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer.warmup', clients: ['envoy', 'proxyless'], reason: 'slow start (warmup) is not generated yet' },
    ]);
  });

  it('does not report a value that loses nothing: ROUND_ROBIN for gRPC, exportTo everywhere', () => {
    expect(notAppliedFields('DestinationRule', { host: 'reviews', exportTo: ['*'], trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } })).toEqual([]);
    expect(notAppliedFields('VirtualService', { hosts: ['reviews'], exportTo: ['.'], http: [{ route: [{ destination: { host: 'reviews' } }] }] })).toEqual([
      { field: 'spec.exportTo', clients: ['envoy', 'proxyless'], reason: expect.stringContaining('exportTo is not enforced yet') },
    ]);
  });

  it('is empty for fields applied for every client, and names the client a field is not applied for', () => {
    expect(notAppliedFields('DestinationRule', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }], trafficPolicy: { connectionPool: { http: { http2MaxRequests: 5 } } } })).toEqual([]);
    const vs = notAppliedFields('VirtualService', {
      hosts: ['reviews'],
      http: [{ match: [{ uri: { prefix: '/' }, queryParams: { q: { exact: 'x' } }, sourceLabels: { app: 'a' } }], route: [{ destination: { host: 'reviews' } }], mirror: { host: 'reviews' } }],
    });
    expect(vs.map((f) => [f.field, f.clients])).toEqual([
      ['spec.http[0].match[0].queryParams', ['proxyless']],
      ['spec.http[0].match[0].sourceLabels', ['envoy', 'proxyless']],
      ['spec.http[0].mirror', ['proxyless']],
    ]);
  });

  it('asks nothing of proxyless clients for a Gateway, which only Envoy serves', () => {
    expect(notAppliedFields('Gateway', { selector: { app: 'gw' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] })).toEqual([]);
    expect(notAppliedFields('Gateway', { selector: { app: 'gw' }, deployment: { replicas: 1 }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'], defaultEndpoint: '127.0.0.1:8080' }] })).toEqual([
      { field: 'spec.servers[0].defaultEndpoint', clients: ['envoy'], reason: expect.any(String) },
    ]);
  });

  it('reports a WorkloadEntry network and a ServiceEntry exportTo', () => {
    expect(notAppliedFields('WorkloadEntry', { address: '127.0.0.2', network: 'n1' }).map((f) => f.field)).toEqual(['spec.network']);
    expect(notAppliedFields('ServiceEntry', { hosts: ['a.example.com'], addresses: ['10.0.0.1'], exportTo: ['.'] }).map((f) => f.field)).toEqual(['spec.exportTo']);
  });
});

describe('the FieldsApplied condition', () => {
  it('is True when everything set is applied, False NotAppliedYet naming each field and client otherwise', () => {
    expect(fieldsAppliedCondition('WorkloadEntry', { address: '127.0.0.2' })).toEqual({
      type: 'FieldsApplied', status: 'True', reason: 'AllApplied', message: 'every field set is applied for Envoy and proxyless gRPC',
    });
    const c = fieldsAppliedCondition('DestinationRule', { host: 'reviews', trafficPolicy: { loadBalancer: { warmup: { duration: '30s' } } } });
    expect(c.status).toBe('False');
    expect(c.reason).toBe('NotAppliedYet');
    expect(c.message).toBe('accepted, but not applied yet: spec.trafficPolicy.loadBalancer.warmup (not applied yet for Envoy and proxyless gRPC: slow start (warmup) is not generated yet)');
  });

});
