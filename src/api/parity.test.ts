// Istio API parity: every Istio networking v1 field path of VirtualService, DestinationRule, Gateway,
// ServiceEntry and WorkloadEntry is in Weft's schema with Istio's type, and every field Weft accepts says how it
// is applied (src/api/parity/applied.ts). docs/api.md's parity tables are generated from the same data:
// `UPDATE_PARITY_DOCS=1` rewrites them.
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applicationOf } from './parity/applied.js';
import { istioFields } from './parity/istio-fields.js';
import { DOCS_BEGIN, DOCS_END, PARITY_KINDS, parityMarkdown, parityProblems, weftFields } from './parity/parity.js';

const docsPath = join(import.meta.dirname, '..', '..', 'docs', 'api.md');

describe('Istio API parity', () => {
  it('has every Istio field with its type, and a classification for each one Weft accepts', () => {
    expect(parityProblems().map((p) => `${p.kind} ${p.path}: ${p.problem}`)).toEqual([]);
  });

  it('is a check that can fail: a missing field and an unclassified one are found', () => {
    // The data the check reads is not empty, and the fields the issue named are in it.
    const dr = istioFields.DestinationRule.map((f) => f.path);
    expect(dr).toContain('trafficPolicy.loadBalancer.warmup.duration');
    expect(dr).toContain('subsets[].trafficPolicy.portLevelSettings[].connectionPool.http.http2KeepAlive.timeout');
    expect(weftFields('DestinationRule').get('trafficPolicy.loadBalancer.warmup.duration')).toBe('string');
    expect(applicationOf('DestinationRule', 'subsets[].trafficPolicy.loadBalancer.warmup.duration')?.envoy).toEqual({ notYet: expect.any(String) });
    expect(applicationOf('DestinationRule', 'trafficPolicy.loadBalancer.noSuchField')).toBeUndefined();
  });

  it('keeps the parity tables of docs/api.md generated', () => {
    const docs = readFileSync(docsPath, 'utf8');
    const begin = docs.indexOf(DOCS_BEGIN);
    const end = docs.indexOf(DOCS_END);
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const generated = `${DOCS_BEGIN}\n${parityMarkdown()}\n${DOCS_END}`;
    const current = docs.slice(begin, end + DOCS_END.length);
    if (process.env.UPDATE_PARITY_DOCS === '1' && current !== generated) {
      writeFileSync(docsPath, docs.slice(0, begin) + generated + docs.slice(end + DOCS_END.length));
      return;
    }
    if (current !== generated) throw new Error('docs/api.md parity tables are stale: run UPDATE_PARITY_DOCS=1 on src/api/parity.test.ts');
  });
});
