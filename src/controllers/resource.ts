// Describes a kind of object well enough to build its URLs; the only place paths are spelled out.

export interface ResourceType {
  /** API group, '' for the core group ("v1"). */
  group: string;
  version: string;
  /** The URL segment, e.g. 'configmaps'. */
  plural: string;
  kind: string;
  namespaced: boolean;
}

export function apiVersionOf(resource: ResourceType): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

/** The group part of an apiVersion ('' for "v1"). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * The path of a collection or of one object. Without a namespace a namespaced resource's path is the
 * all-namespaces collection (lists and watches only).
 */
export function resourcePath(
  resource: ResourceType,
  at: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  let path = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  if (resource.namespaced && at.namespace) path += `/namespaces/${encodeURIComponent(at.namespace)}`;
  path += `/${resource.plural}`;
  if (at.name !== undefined) path += `/${encodeURIComponent(at.name)}`;
  if (at.subresource) path += `/${at.subresource}`;
  return path;
}

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', plural, kind, namespaced });

/** Resources the framework itself uses, plus the common core ones. */
export const resources = {
  configMaps: core('configmaps', 'ConfigMap'),
  secrets: core('secrets', 'Secret'),
  services: core('services', 'Service'),
  pods: core('pods', 'Pod'),
  serviceAccounts: core('serviceaccounts', 'ServiceAccount'),
  nodes: core('nodes', 'Node', false),
  namespaces: core('namespaces', 'Namespace', false),
  endpointSlices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  events: { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
} satisfies Record<string, ResourceType>;
