import { describe, expect, it } from '@jest/globals';
import type { VirtualService } from '../api/index.js';
import { proxyRuleProblems, re2Error } from './proxy-rules.js';

const vs = (http: NonNullable<VirtualService['spec']['http']>): VirtualService => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'VirtualService',
  metadata: { name: 'r', namespace: 'shop' },
  spec: { hosts: ['r'], http },
});

describe('RE2 validation', () => {
  it('refuses what RE2 refuses, including what JavaScript accepts', () => {
    expect(re2Error('(unclosed')).toContain('missing closing )');
    expect(re2Error('(?=lookahead)')).toContain('invalid or unsupported Perl syntax');
    expect(re2Error('(a)\\1')).toBeDefined(); // backreferences
    expect(() => new RegExp('(?=lookahead)')).not.toThrow();
  });

  it('accepts RE2 patterns', () => {
    expect(re2Error('^/api/v[0-9]+(/.*)?$')).toBeUndefined();
    expect(re2Error('(?i)canary|beta')).toBeUndefined();
  });

  it('names the field of every bad pattern in a VirtualService', () => {
    const problems = proxyRuleProblems(
      vs([
        {
          match: [{ uri: { regex: '(unclosed' } }, { headers: { 'x-user': { regex: '^ok$' }, 'x-id': { regex: '[z-a]' }, 'x-any': { regex: '*' } } }, { uri: { regex: '*' } }],
          rewrite: { uriRegexRewrite: { match: '(?<=x)y', rewrite: '/' } },
          route: [{ destination: { host: 'r' } }],
        },
      ]),
    );
    expect(problems.map((p) => [p.reason, p.field])).toEqual([
      ['InvalidRegex', 'spec.http[0].match[0].uri.regex'],
      ['InvalidRegex', 'spec.http[0].match[1].headers[x-id].regex'],
      // A header's regex `*` is Istio's presence match, not RE2; a path's is a bad pattern.
      ['InvalidRegex', 'spec.http[0].match[2].uri.regex'],
      ['InvalidRegex', 'spec.http[0].rewrite.uriRegexRewrite.match'],
    ]);
    expect(problems[0]!.message).toContain('"(unclosed" is not a valid RE2 regular expression');
  });
});

describe('header names', () => {
  it('refuses header names Istio refuses, naming the field; takes what Istio takes (token characters, pseudo-header matches)', () => {
    const problems = proxyRuleProblems(
      vs([
        {
          match: [
            { headers: { 'X-User': { exact: 'a' }, "a!#$%&'*+-.^_`|~z": { exact: 'b' }, ':method': { exact: 'GET' } }, withoutHeaders: { 'bad header': { prefix: 'c' } } },
            { headers: { ':foo': { exact: 'x' } } },
          ],
          route: [{ destination: { host: 'r' }, headers: { request: { set: { 'X-Fine_1': 'y', ':authority': 'a.example' }, add: { 'x\u0000': 'z' }, remove: ['host'] } } }],
          headers: { request: { add: { Host: 'b.example' } }, response: { set: { host: 'c' } } },
        },
      ]),
    );
    expect(problems.map((p) => [p.reason, p.field])).toEqual([
      ['InvalidHeaderName', 'spec.http[0].match[0].withoutHeaders[bad header]'],
      ['InvalidHeaderName', 'spec.http[0].match[1].headers[:foo]'],
      ['InvalidHeaderName', 'spec.http[0].headers.response.set[host]'],
      ['InvalidHeaderName', 'spec.http[0].route[0].headers.request.add[x\u0000]'],
      ['InvalidHeaderName', 'spec.http[0].route[0].headers.request.remove[0]'],
    ]);
    expect(problems[2]!.message).toContain('a request\'s Host or :authority set or added rewrites the authority');
  });

  it("says why Istio's JWT claim routing is refused", () => {
    const [problem] = proxyRuleProblems(vs([{ match: [{ headers: { '@request.auth.claims.group': { exact: 'admin' } } }], route: [{ destination: { host: 'r' } }] }]));
    expect(problem).toMatchObject({ reason: 'InvalidHeaderName', field: 'spec.http[0].match[0].headers[@request.auth.claims.group]' });
    expect(problem!.message).toContain("routing on JWT claims needs Istio's RequestAuthentication, which Weft does not have");
  });
});
