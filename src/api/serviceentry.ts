// ServiceEntry: adds a service to the mesh's registry: an external API, or mesh-internal workloads that are not
// Kubernetes Services (WorkloadEntries selected by labels). Field names are Istio networking v1's.
import Type, { type Static } from 'typebox';
import { ExportTo, MESH_LABEL_PATTERN, MAX, WorkloadLabelsSelector, cel, hosts, list, port, protocolField, str, strEnum, type MeshObject } from './common.js';
import { ServiceEntryEndpoint } from './workloadentry.js';

export const ServicePort = Type.Object(
  {
    number: port('A valid port number.'),
    protocol: Type.Optional(protocolField('The protocol exposed on the port: HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, HTTP_PROXY, MONGO, MYSQL, REDIS, TCP or TLS, in any case; empty is unset.', true)),
    name: str('Label assigned to the port; WorkloadEntry ports refer to it.', { minLength: 1, maxLength: MAX.name, pattern: MESH_LABEL_PATTERN }),
    targetPort: Type.Optional(port('The port number on the endpoints where traffic is received; defaults to number.')),
  },
  { description: 'ServicePort describes the properties of a specific port of a service.' },
);
export type ServicePort = Static<typeof ServicePort>;

export const ServiceEntrySpec = Type.Object(
  {
    hosts: hosts('The hosts associated with the ServiceEntry; DNS names with an optional wildcard prefix.', {
      minItems: 1,
      ...cel({ rule: "self.all(h, h != '*')", message: "a ServiceEntry cannot declare every host ('*'): name them, or a wildcard such as *.example.com" }),
    }),
    addresses: Type.Optional(
      list(str('An IP address or CIDR.', { maxLength: 64 }), 'The virtual IP addresses (or CIDRs) associated with the service.', MAX.shortList, {
        ...cel({ rule: 'self.all(a, isIP(a) || isCIDR(a))', message: 'each address must be an IP address or a CIDR' }),
      }),
    ),
    ports: Type.Optional(
      list(ServicePort, 'The ports associated with the service.', MAX.ports, {
        ...cel(
          { rule: 'self.all(p, self.exists_one(q, q.number == p.number))', message: 'port numbers must be unique' },
          { rule: 'self.all(p, self.exists_one(q, q.name == p.name))', message: 'port names must be unique' },
        ),
      }),
    ),
    location: Type.Optional(
      strEnum(['MESH_EXTERNAL', 'MESH_INTERNAL'], 'Whether the service is external to the mesh or part of it; MESH_EXTERNAL by default.'),
    ),
    resolution: Type.Optional(
      strEnum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'], 'Service resolution mode for the hosts; NONE by default.'),
    ),
    endpoints: Type.Optional(list(ServiceEntryEndpoint, 'One or more endpoints associated with the service.', MAX.endpoints)),
    workloadSelector: Type.Optional(WorkloadLabelsSelector),
    exportTo: Type.Optional(ExportTo),
    subjectAltNames: Type.Optional(
      list(str('A subject alternative name.'), 'Identities allowed in the certificates of the endpoints.', MAX.shortList),
    ),
  },
  {
    description: 'ServiceEntry enables adding additional entries into the mesh service registry (Istio networking v1 ServiceEntry).',
    ...cel(
      {
        rule:
          "!has(self.resolution) || self.resolution != 'STATIC' || has(self.workloadSelector) || " +
          "(has(self.endpoints) && size(self.endpoints) > 0 && self.endpoints.all(e, has(e.address)))",
        message: 'resolution STATIC requires endpoints that all have an address, or a workloadSelector',
        fieldPath: '.endpoints',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!(has(self.workloadSelector) && has(self.endpoints))',
        message: 'workloadSelector and endpoints are mutually exclusive',
        fieldPath: '.workloadSelector',
      },
      // Istio's rules for resolution (a user gets the same verdict as from Istio):
      {
        rule: "!has(self.resolution) || self.resolution != 'NONE' || !has(self.endpoints) || size(self.endpoints) == 0",
        message: 'resolution NONE takes no endpoints (traffic goes to the address the client asked for)',
        fieldPath: '.endpoints',
      },
      {
        rule: "!has(self.resolution) || self.resolution != 'DNS_ROUND_ROBIN' || !has(self.endpoints) || size(self.endpoints) <= 1",
        message: 'resolution DNS_ROUND_ROBIN takes at most one endpoint',
        fieldPath: '.endpoints',
      },
      {
        rule: "!has(self.resolution) || !(self.resolution in ['DNS', 'DNS_ROUND_ROBIN']) || !has(self.addresses) || self.addresses.all(a, isIP(a))",
        message: 'CIDR addresses are allowed only with resolution NONE or STATIC',
        fieldPath: '.addresses',
      },
    ),
  },
);
export type ServiceEntrySpec = Static<typeof ServiceEntrySpec>;

export type ServiceEntry = MeshObject<'ServiceEntry', ServiceEntrySpec>;
