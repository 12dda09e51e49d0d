// WorkloadEntry: a non-Kubernetes workload (a VM, or a process on 127.0.0.x in tests) joining the mesh. Field
// names are Istio networking v1's. The same shape is used for ServiceEntry endpoints, where address may be omitted.
import Type, { type Static } from 'typebox';
import { MAX, cel, int, labels, map, port, str, type MeshObject } from './common.js';

/** IP address, DNS name, or `unix://` socket path. */
export function endpointAddress(description: string) {
  return str(description, {
    minLength: 1,
    maxLength: 256,
    ...cel({
      // A unix socket's path is absolute and names a file (Istio's rule): unix:///var/run/app.sock.
      rule: "isIP(self) || self.matches('^unix:///.*[^/]$') || self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",
      message: 'must be an IP address, a DNS name or a unix:// socket path (absolute, naming a file: unix:///var/run/app.sock)',
    }),
  });
}

const endpointFields = {
  ports: Type.Optional(map(port('A port number.'), 'Port numbers of the workload by port name (the names of the service ports).')),
  labels: Type.Optional(labels('Labels of the workload; selected by ServiceEntry workloadSelector and DestinationRule subsets.')),
  network: Type.Optional(str('The network the endpoint is in; endpoints on other networks are reached through gateways.', { maxLength: MAX.name })),
  locality: Type.Optional(
    str('Locality as region/zone/subzone, used for locality-aware load balancing.', { maxLength: MAX.host, pattern: '^[^/]*(/[^/]*){0,2}$' }),
  ),
  weight: Type.Optional(int('Load balancing weight; endpoints with higher weight receive proportionally more traffic.', 0, 4294967295)),
  serviceAccount: Type.Optional(
    str('The Kubernetes service account of the workload (its mesh identity); must be in the same namespace.', {
      maxLength: MAX.host,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    }),
  ),
};

export const WorkloadEntrySpec = Type.Object(
  {
    address: Type.Optional(endpointAddress('Address of the workload: an IP address, a DNS name or a unix:// socket path. May be left out for a workload on another network (network set): it is reached through that network\'s gateway.')),
    ...endpointFields,
  },
  {
    description: 'WorkloadEntry describes the properties of a single non-Kubernetes workload (Istio networking v1 WorkloadEntry).',
    ...cel({ rule: 'has(self.address) || has(self.network)', message: 'address is required unless network is set', fieldPath: '.address', reason: 'FieldValueRequired' }),
  },
);
export type WorkloadEntrySpec = Static<typeof WorkloadEntrySpec>;

/** A ServiceEntry endpoint: the WorkloadEntry shape with an optional address. */
export const ServiceEntryEndpoint = Type.Object(
  {
    address: Type.Optional(endpointAddress('Address of the endpoint: an IP address, a DNS name or a unix:// socket path.')),
    ...endpointFields,
  },
  { description: 'An endpoint of a ServiceEntry (the WorkloadEntry shape).' },
);
export type ServiceEntryEndpoint = Static<typeof ServiceEntryEndpoint>;

export type WorkloadEntry = MeshObject<'WorkloadEntry', WorkloadEntrySpec>;

