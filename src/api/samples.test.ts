// config/samples: one realistic object per kind, in apply order (namespace first), valid against the schemas
// (patterns, enums, bounds; the CEL rules are checked by the API server in test/e2e/api-validation.test.ts).
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Value from 'typebox/value';
import YAML from 'yaml';
import { API_VERSION, MESH_KINDS, SPEC_SCHEMAS, type AnyMeshObject, type MeshKind } from './index.js';

const samplesDir = join(import.meta.dirname, '..', '..', 'config', 'samples');
const files = readdirSync(samplesDir).filter((f) => f.endsWith('.yaml')).sort();
const docs = files.flatMap((file) =>
  YAML.parseAllDocuments(readFileSync(join(samplesDir, file), 'utf8')).map((doc) => ({ file, object: doc.toJS() as Record<string, any> })),
);

/** The weft.dev objects; the rest are the Namespace, the ServiceAccount the workloads run as and the gateway's TLS Secret. */
const meshDocs = docs.filter((d) => d.object.apiVersion === API_VERSION);

describe('config/samples', () => {
  it('are numbered files in apply order, the namespace first', () => {
    expect(files.every((f) => /^\d{2}-[a-z0-9-]+\.yaml$/.test(f))).toBe(true);
    expect(docs[0]).toMatchObject({ object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-demo' } } });
  });

  it('have one object per kind, all weft.dev/v1alpha1 in weft-demo, besides the identities and certificate they use', () => {
    expect(docs.filter((d) => d.object.apiVersion !== API_VERSION).map((d) => d.object.kind)).toEqual(['Namespace', 'ServiceAccount', 'Secret']);
    const mesh = meshDocs.map((d) => d.object);
    for (const o of mesh) {
      expect(o.apiVersion).toBe(API_VERSION);
      expect(MESH_KINDS).toContain(o.kind);
      expect(o.metadata.namespace).toBe('weft-demo');
    }
    expect(new Set(mesh.map((o) => o.kind))).toEqual(new Set(MESH_KINDS));
  });

  it.each(meshDocs.map((d) => [d.file, d.object] as const))('%s matches its kind schema', (_file, object) => {
    const schema = SPEC_SCHEMAS[object.kind as MeshKind];
    const errors = [...Value.Errors(schema, object.spec)].map((e) => `${e.instancePath}: ${e.message}`);
    expect(errors).toEqual([]);
  });

  it('are consistent: an 80/20 split over subsets the DestinationRule defines, of the ServiceEntry host', () => {
    const byKind = Object.fromEntries(meshDocs.map((d) => [d.object.kind, d.object])) as unknown as {
      [K in AnyMeshObject['kind']]: Extract<AnyMeshObject, { kind: K }>;
    };
    const host = 'reviews.weft-demo.svc.cluster.local';
    expect(byKind.ServiceEntry.spec.hosts).toEqual([host]);
    expect(byKind.ServiceEntry.spec.workloadSelector?.labels).toEqual({ app: 'reviews' });
    expect(byKind.DestinationRule.spec.host).toBe(host);
    const route = byKind.VirtualService.spec.http![0]!.route!;
    expect(route.map((r) => [r.destination.host, r.destination.subset, r.weight])).toEqual([
      [host, 'v1', 80],
      [host, 'v2', 20],
    ]);
    expect(byKind.DestinationRule.spec.subsets!.map((s) => s.name)).toEqual(['v1', 'v2']);
    const entries = docs.filter((d) => d.object.kind === 'WorkloadEntry').map((d) => d.object.spec);
    expect(entries.map((e) => [e.address, e.labels.version, e.serviceAccount])).toEqual([
      ['127.0.0.2', 'v1', 'reviews'],
      ['127.0.0.3', 'v2', 'reviews'],
    ]);
    expect(byKind.MeshPolicy.spec.mtls?.mode).toBe('PERMISSIVE');
  });
});
