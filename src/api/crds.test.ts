// The CRDs are structural (the API server accepts them and prunes nothing we declared) and carry the names,
// printer columns and status subresource the rest of Weft and kubectl rely on.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { CATEGORY, GROUP, MESH_KINDS, VERSION, crds, resources } from './index.js';
import { crdFileName } from './manifests.js';
import { structuralProblems, toStructural, type JSONSchemaProps } from './structural.js';

const repoRoot = join(import.meta.dirname, '..', '..');

/** Visits every schema node with its path. */
function walk(node: JSONSchemaProps, path: string, visit: (node: JSONSchemaProps, path: string) => void): void {
  visit(node, path);
  for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[*]`, visit);
  if (node.additionalProperties) walk(node.additionalProperties, `${path}{*}`, visit);
}

const FORBIDDEN = ['$id', '$schema', '$ref', 'id', 'definitions', 'dependencies', 'additionalItems', 'patternProperties', 'const', 'oneOf', 'allOf', 'not', 'uniqueItems', 'title', 'examples'];

describe.each(MESH_KINDS)('the %s CRD', (kind) => {
  const crd = crds[kind];
  const version = crd.spec.versions[0]!;
  // Check the committed YAML too, as the API server will read it.
  const fromYaml = YAML.parse(readFileSync(join(repoRoot, 'manifests', crdFileName(kind)), 'utf8')) as typeof crd;
  const schema = fromYaml.spec.versions[0]!.schema.openAPIV3Schema;

  it('has a structural schema', () => {
    expect(structuralProblems(schema)).toEqual([]);
  });

  it('uses no keyword the API server rejects, and types every node', () => {
    const problems: string[] = [];
    walk(schema, kind, (node, path) => {
      for (const key of FORBIDDEN) if (key in node) problems.push(`${path}: ${key}`);
      if ('additionalProperties' in node && typeof node.additionalProperties !== 'object') problems.push(`${path}: boolean additionalProperties`);
      if (!node.type && !node['x-kubernetes-int-or-string'] && !node['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}: no type`);
      if (node.type === 'string' && node.enum === undefined && node.format === undefined && node.maxLength === undefined && !path.endsWith('.apiVersion') && !path.endsWith('.kind')) {
        problems.push(`${path}: unbounded string`);
      }
      if (node.type === 'array' && node.maxItems === undefined) problems.push(`${path}: unbounded list`);
      if (node.additionalProperties && node.maxProperties === undefined) problems.push(`${path}: unbounded map`);
      for (const rule of node['x-kubernetes-validations'] ?? []) {
        if (!rule.message) problems.push(`${path}: rule ${rule.rule} has no message`);
      }
    });
    expect(problems).toEqual([]);
  });

  it('is named and categorized for kubectl', () => {
    const info = resources[kind];
    expect(crd.metadata.name).toBe(`${info.plural}.${GROUP}`);
    expect(crd.spec.group).toBe(GROUP);
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toEqual({
      kind,
      listKind: `${kind}List`,
      plural: info.plural,
      singular: kind.toLowerCase(),
      shortNames: [...info.shortNames],
      categories: [CATEGORY],
    });
    expect(version.name).toBe(VERSION);
    expect(version.served && version.storage).toBe(true);
  });

  it('has a status subresource with observedGeneration, conditions keyed by type, and xDS sync fields', () => {
    expect(version.subresources).toEqual({ status: {} });
    const status = schema.properties!.status!;
    // Every kind reports these first; a kind may report more (a Gateway's addresses and servers).
    expect(Object.keys(status.properties!).slice(0, 4)).toEqual(['observedGeneration', 'conditions', 'proxies', 'synced']);
    const conditions = status.properties!.conditions!;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(conditions.items!.properties!.status!.enum).toEqual(['True', 'False', 'Unknown']);
    expect(Object.keys(status.properties!.proxies!.properties!)).toEqual(['acked', 'expected']);
    expect(schema.required).toEqual(['spec']);
  });

  it('prints Ready, Reason, Synced and Age', () => {
    const columns = version.additionalPrinterColumns;
    expect(columns.slice(-4).map((c) => [c.name, c.jsonPath])).toEqual([
      ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
      ['Reason', '.status.conditions[?(@.type=="Ready")].reason'],
      ['Synced', '.status.synced'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });
});

describe('resources', () => {
  it("addresses every kind with group, version, plural and a unique shortName that is not one of Istio's", () => {
    expect(MESH_KINDS).toEqual(['MeshPolicy', 'VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'WorkloadEntry']);
    expect(MESH_KINDS.map((k) => resources[k].shortNames[0])).toEqual(['wmp', 'wvs', 'wdr', 'wgw', 'wse', 'wwe']);
    // Istio's networking and security CRDs' short names: a user migrating has both installed.
    const istio = ['vs', 'dr', 'gw', 'se', 'we', 'wg', 'sidecar', 'ap', 'pa', 'ra'];
    expect(MESH_KINDS.flatMap((k) => resources[k].shortNames).filter((n) => istio.includes(n))).toEqual([]);
    expect(resources.VirtualService).toMatchObject({ group: 'weft.dev', version: 'v1alpha1', apiVersion: 'weft.dev/v1alpha1', plural: 'virtualservices' });
  });
});

describe('toStructural', () => {
  it('turns string maps into additionalProperties and string enums into typed enums', () => {
    expect(toStructural({ type: 'object', patternProperties: { '^.*$': { enum: ['A', 'B'] } } })).toEqual({
      type: 'object',
      additionalProperties: { type: 'string', enum: ['A', 'B'] },
    });
  });

  it('refuses keywords the API server would reject, naming where', () => {
    expect(() => toStructural({ type: 'object', properties: { a: { type: 'string', $id: 'x' } } })).toThrow(/<root>\.a: keyword "\$id"/);
    expect(() => toStructural({ anyOf: [{ type: 'string', const: 'A' }] })).toThrow(/const/);
    expect(() => toStructural({ type: 'object', patternProperties: { '^a': { type: 'string' } } })).toThrow(/patternProperties/);
  });

  it('reports schemas that are not structural', () => {
    expect(structuralProblems({ properties: { a: { type: 'array' } } })).toEqual(['<root>: missing type', '<root>.a: array without items']);
  });
});
