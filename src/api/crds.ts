// The CustomResourceDefinitions of weft.dev/v1alpha1, built from the TypeBox schemas of each kind: names,
// shortNames, the `weft` category, printer columns and the status subresource. `resources` is the table other
// code uses to address the kinds (group/version/plural/kind).
import Type, { type TSchema } from 'typebox';
import { API_VERSION, GROUP, MeshStatus, VERSION } from './common.js';
import { DestinationRuleSpec } from './destinationrule.js';
import { GatewaySpec, GatewayStatus } from './gateway.js';
import { MeshPolicySpec } from './meshpolicy.js';
import { ServiceEntrySpec } from './serviceentry.js';
import { toStructural, type JSONSchemaProps } from './structural.js';
import { VirtualServiceSpec } from './virtualservice.js';
import { WorkloadEntrySpec } from './workloadentry.js';

/** Everything needed to address one kind through the API. */
export interface ResourceInfo {
  group: typeof GROUP;
  version: typeof VERSION;
  apiVersion: typeof API_VERSION;
  kind: string;
  /** Lowercase plural, as in the URL path `/apis/weft.dev/v1alpha1/namespaces/{ns}/{plural}`. */
  plural: string;
  singular: string;
  shortNames: readonly string[];
  namespaced: true;
}

function resource<const K extends string, const P extends string, const S extends string>(kind: K, plural: P, shortName: S) {
  return {
    group: GROUP,
    version: VERSION,
    apiVersion: API_VERSION,
    kind,
    plural,
    singular: kind.toLowerCase() as Lowercase<K>,
    shortNames: [shortName] as const,
    namespaced: true,
  } as const satisfies ResourceInfo;
}

/** The weft.dev/v1alpha1 kinds, keyed by kind. */
export const resources = {
  // Short names start with `w`: Istio's CRDs own vs, dr, gw, se and we, and users migrating have both installed.
  MeshPolicy: resource('MeshPolicy', 'meshpolicies', 'wmp'),
  VirtualService: resource('VirtualService', 'virtualservices', 'wvs'),
  DestinationRule: resource('DestinationRule', 'destinationrules', 'wdr'),
  Gateway: resource('Gateway', 'gateways', 'wgw'),
  ServiceEntry: resource('ServiceEntry', 'serviceentries', 'wse'),
  WorkloadEntry: resource('WorkloadEntry', 'workloadentries', 'wwe'),
} as const;

export type MeshKind = keyof typeof resources;
export const MESH_KINDS = Object.keys(resources) as MeshKind[];

export const CATEGORY = 'weft';

/** An `additionalPrinterColumns` entry. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** The wire form of an apiextensions.k8s.io/v1 CustomResourceDefinition as Weft generates it. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: typeof GROUP;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: Array<{
      name: typeof VERSION;
      served: true;
      storage: true;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }>;
  };
}

/** Columns every kind prints: readiness from conditions, xDS sync, age. */
const STATUS_COLUMNS: PrinterColumn[] = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether the resource is in effect.' },
  { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Why it is (not) ready.' },
  { name: 'Synced', type: 'string', jsonPath: '.status.synced', description: 'Proxies that acknowledged it / proxies it applies to.' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

interface KindDefinition {
  kind: MeshKind;
  description: string;
  spec: TSchema;
  /** MeshStatus unless the kind reports more. */
  status?: TSchema;
  columns: PrinterColumn[];
}

const definitions: KindDefinition[] = [
  {
    kind: 'MeshPolicy',
    description:
      "MeshPolicy is Weft's policy for mutual TLS, authorization, rate limiting and telemetry. In weft-system it applies " +
      'mesh-wide, elsewhere namespace-wide, and with spec.selector to the selected workloads.',
    spec: MeshPolicySpec,
    columns: [
      { name: 'mTLS', type: 'string', jsonPath: '.spec.mtls.mode', description: 'Mutual TLS mode.' },
      { name: 'Action', type: 'string', jsonPath: '.spec.authorization.action', description: 'Authorization action.', priority: 1 },
    ],
  },
  {
    kind: 'VirtualService',
    description: 'VirtualService configures how requests to hosts are routed (Istio networking v1 VirtualService).',
    spec: VirtualServiceSpec,
    columns: [
      { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'The hosts routed by this VirtualService.' },
      { name: 'Gateways', type: 'string', jsonPath: '.spec.gateways', description: 'Gateways it applies to.', priority: 1 },
    ],
  },
  {
    kind: 'DestinationRule',
    description: 'DestinationRule configures traffic to a service after routing (Istio networking v1 DestinationRule).',
    spec: DestinationRuleSpec,
    columns: [{ name: 'Host', type: 'string', jsonPath: '.spec.host', description: 'The service the rule applies to.' }],
  },
  {
    kind: 'Gateway',
    description: 'Gateway describes a load balancer at the edge of the mesh (Istio networking v1 Gateway, plus Weft deployment settings).',
    spec: GatewaySpec,
    status: GatewayStatus,
    columns: [
      { name: 'Address', type: 'string', jsonPath: '.status.addresses[0].value', description: 'The first address of the generated Service.' },
      { name: 'Service-Type', type: 'string', jsonPath: '.spec.deployment.serviceType', description: 'Type of the generated Service.', priority: 1 },
    ],
  },
  {
    kind: 'ServiceEntry',
    description: 'ServiceEntry adds a service to the mesh registry (Istio networking v1 ServiceEntry).',
    spec: ServiceEntrySpec,
    columns: [
      { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'The hosts of the service.' },
      { name: 'Location', type: 'string', jsonPath: '.spec.location', description: 'MESH_EXTERNAL or MESH_INTERNAL.', priority: 1 },
      { name: 'Resolution', type: 'string', jsonPath: '.spec.resolution', description: 'How endpoints are resolved.', priority: 1 },
    ],
  },
  {
    kind: 'WorkloadEntry',
    description: 'WorkloadEntry describes a non-Kubernetes workload in the mesh (Istio networking v1 WorkloadEntry).',
    spec: WorkloadEntrySpec,
    columns: [
      { name: 'Address', type: 'string', jsonPath: '.spec.address', description: 'Address of the workload.' },
      { name: 'Service-Account', type: 'string', jsonPath: '.spec.serviceAccount', description: 'Identity of the workload.', priority: 1 },
    ],
  },
];

function crdFor(def: KindDefinition): CustomResourceDefinition {
  const info = resources[def.kind];
  const root = toStructural(
    Type.Object({ spec: def.spec, status: Type.Optional(def.status ?? MeshStatus) }, { description: def.description }),
    def.kind,
  );
  const openAPIV3Schema: JSONSchemaProps = {
    description: root.description,
    type: 'object',
    properties: {
      apiVersion: { description: 'APIVersion of this representation of the object: weft.dev/v1alpha1.', type: 'string' },
      kind: { description: `The kind of the object: ${def.kind}.`, type: 'string' },
      metadata: { type: 'object' },
      ...root.properties,
    },
    required: ['spec'],
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'weft' } },
    spec: {
      group: GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: [...info.shortNames],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...def.columns, ...STATUS_COLUMNS],
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

/** The CRDs, keyed by kind, in a fixed order. */
/** Each kind's spec schema (typebox), for validating an object's spec as the API server would (before CEL). */
export const SPEC_SCHEMAS: Record<MeshKind, TSchema> = Object.fromEntries(definitions.map((d) => [d.kind, d.spec])) as Record<MeshKind, TSchema>;

export const crds: Record<MeshKind, CustomResourceDefinition> = Object.fromEntries(
  definitions.map((def) => [def.kind, crdFor(def)]),
) as Record<MeshKind, CustomResourceDefinition>;
