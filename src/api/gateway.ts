// Gateway: a load balancer at the edge of the mesh. `selector` and `servers` are Istio networking v1's; the
// optional `deployment` block is Weft's own (Istio has no such field): when it is set, Weft generates the gateway's
// Deployment, Service, PodDisruptionBudget and HorizontalPodAutoscaler from it.
import Type, { type Static } from 'typebox';
import {
  Condition,
  MAX,
  MeshStatus,
  protocolField,
  bool,
  cel,
  countOf,
  int,
  intOrPercent,
  labels,
  list,
  map,
  port,
  quantity,
  str,
  strEnum,
  type MeshObject,
} from './common.js';

export const SERVER_TLS_MODES = ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] as const;
/** In this order: `TLSV1_0` < ... < `TLSV1_3` also compares as strings. */
export const TLS_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

export const GatewayPort = Type.Object(
  {
    number: port('A valid port number.'),
    protocol: protocolField('The protocol exposed on the port: HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, HTTP_PROXY, MONGO, MYSQL, REDIS, TCP or TLS, in any case.'),
    name: str('Label assigned to the port.', { minLength: 1, maxLength: MAX.name }),
    targetPort: Type.Optional(port('The port number on the gateway workload that receives the traffic; defaults to number.')),
  },
  { description: 'Port describes the properties of a specific port of a service.' },
);
export type GatewayPort = Static<typeof GatewayPort>;

const certPath = (description: string) => str(description, { maxLength: MAX.certPath });

export const ServerTLSSettings = Type.Object(
  {
    httpsRedirect: Type.Optional(bool('Send a 301 redirect for all http connections, asking clients to use HTTPS.')),
    mode: Type.Optional(strEnum([...SERVER_TLS_MODES], 'Whether connections to this port are secured with TLS, and how.')),
    serverCertificate: Type.Optional(certPath('Path to the file holding the server-side TLS certificate.')),
    privateKey: Type.Optional(certPath("Path to the file holding the server's private key.")),
    caCertificates: Type.Optional(certPath('Path to a file with CA certificates used to verify client certificates.')),
    caCrl: Type.Optional(certPath('Path to the certificate revocation list file.')),
    credentialName: Type.Optional(
      str('Name of a Secret (in the gateway workload namespace) holding the server certificate, key and CA.', { maxLength: MAX.host }),
    ),
    credentialNames: Type.Optional(
      list(
        str('Name of a Secret (in the gateway workload namespace) holding a server certificate and key.', { maxLength: MAX.host }),
        'Like credentialName, for two certificates served side by side (e.g. an RSA and an ECDSA one); the client picks.',
        2,
        { minItems: 1 },
      ),
    ),
    caCertCredentialName: Type.Optional(
      str('For mutual TLS: the Secret holding the CA certificates (ca.crt) that verify client certificates; takes precedence over the ca.crt of the credentialName(s) Secret.', {
        maxLength: MAX.host,
      }),
    ),
    tlsCertificates: Type.Optional(
      list(
        Type.Object(
          {
            serverCertificate: Type.Optional(certPath('Path to the file holding the server-side TLS certificate.')),
            privateKey: Type.Optional(certPath("Path to the file holding the server's private key.")),
            caCertificates: Type.Optional(certPath('Path to a file with CA certificates used to verify client certificates.')),
          },
          { description: "One of the server's TLS certificates, from files on the gateway." },
        ),
        'Like serverCertificate/privateKey, for two certificates served side by side (e.g. an RSA and an ECDSA one).',
        2,
        { minItems: 1 },
      ),
    ),
    subjectAltNames: Type.Optional(list(str('A subject alternative name.'), 'Alternate names to verify the subject identity of client certificates.', MAX.shortList)),
    verifyCertificateSpki: Type.Optional(list(str('A base64 SHA-256 SPKI hash.', { maxLength: 64 }), 'Authorized client certificate SPKI hashes.', MAX.shortList)),
    verifyCertificateHash: Type.Optional(list(str('A hex SHA-256 certificate hash.', { maxLength: 128 }), 'Authorized client certificate hashes.', MAX.shortList)),
    minProtocolVersion: Type.Optional(strEnum([...TLS_VERSIONS], 'Minimum TLS protocol version.')),
    maxProtocolVersion: Type.Optional(strEnum([...TLS_VERSIONS], 'Maximum TLS protocol version.')),
    insecureSkipVerify: Type.Optional(bool('Validate client certificates but let the connection through even when validation fails.')),
    cipherSuites: Type.Optional(
      list(str('An OpenSSL cipher suite name.', { maxLength: 64, pattern: '^[A-Z0-9_-]+$' }), 'Cipher suites to offer; Envoy defaults otherwise.', MAX.shortList),
    ),
  },
  {
    description: 'TLS settings of a Gateway server.',
    ...cel(
      {
        rule:
          "!has(self.mode) || !(self.mode in ['SIMPLE', 'MUTUAL']) || has(self.credentialName) || has(self.credentialNames) || " +
          'has(self.serverCertificate) || has(self.tlsCertificates)',
        message: 'credentialName is required for mode SIMPLE and MUTUAL unless credentialNames, serverCertificate or tlsCertificates is given',
        fieldPath: '.credentialName',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!has(self.serverCertificate) || has(self.privateKey)',
        message: 'privateKey is required with serverCertificate',
        fieldPath: '.privateKey',
        reason: 'FieldValueRequired',
      },
      {
        rule: `${countOf('has(self.credentialName)', 'has(self.credentialNames)', 'has(self.serverCertificate)', 'has(self.tlsCertificates)')} <= 1`,
        message: 'only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates should be specified',
        fieldPath: '.credentialName',
      },
      {
        rule:
          "!has(self.tlsCertificates) || !has(self.mode) || !(self.mode in ['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL']) || " +
          'self.tlsCertificates.all(c, has(c.serverCertificate) && has(c.privateKey))',
        message: 'each of tlsCertificates needs serverCertificate and privateKey for mode SIMPLE, MUTUAL and OPTIONAL_MUTUAL',
        fieldPath: '.tlsCertificates',
      },
      {
        rule:
          "!has(self.mode) || self.mode != 'ISTIO_MUTUAL' || " +
          `${countOf('has(self.serverCertificate)', 'has(self.privateKey)', 'has(self.caCertificates)', 'has(self.tlsCertificates)', 'has(self.credentialName)', 'has(self.credentialNames)')} == 0`,
        message: 'ISTIO_MUTUAL TLS uses the workload certificate: it cannot have serverCertificate, privateKey, caCertificates, tlsCertificates, credentialName or credentialNames',
        fieldPath: '.mode',
      },
      {
        rule:
          "!has(self.minProtocolVersion) || !has(self.maxProtocolVersion) || self.minProtocolVersion == 'TLS_AUTO' || " +
          "self.maxProtocolVersion == 'TLS_AUTO' || self.minProtocolVersion <= self.maxProtocolVersion",
        message: 'minProtocolVersion must not be greater than maxProtocolVersion',
        fieldPath: '.minProtocolVersion',
      },
    ),
  },
);
export type ServerTLSSettings = Static<typeof ServerTLSSettings>;

export const Server = Type.Object(
  {
    port: GatewayPort,
    bind: Type.Optional(str('The IP or Unix domain socket the listener binds to; 0.0.0.0 by default.', { maxLength: 256 })),
    defaultEndpoint: Type.Optional(
      str('The loopback IP endpoint or Unix domain socket to which traffic is forwarded (127.0.0.1:PORT or unix:///path).', { maxLength: 256 }),
    ),
    hosts: list(
      str('`[namespace/]host`: a DNS name (wildcard prefix allowed) optionally restricted to VirtualServices of a namespace (`./`, `*/`).', {
        maxLength: MAX.host,
        pattern: '^(([a-z0-9]([-a-z0-9]*[a-z0-9])?|\\.|\\*|~)/)?(\\*|(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$',
      }),
      'Hosts exposed by this gateway.',
      MAX.hosts,
      { minItems: 1 },
    ),
    tls: Type.Optional(ServerTLSSettings),
    name: Type.Optional(str('An optional name of the server; unique across servers of the gateway.', { maxLength: MAX.name })),
  },
  {
    description: 'Server describes the properties of the proxy on a given load balancer port.',
    ...cel({
      rule: "!(self.port.protocol.upperAscii() in ['HTTPS', 'TLS']) || has(self.tls)",
      message: 'tls is required when port.protocol is HTTPS or TLS',
      fieldPath: '.tls',
      reason: 'FieldValueRequired',
    }),
  },
);
export type Server = Static<typeof Server>;

/** Weft's own: how Weft deploys the gateway workload. */
export const GatewayDeployment = Type.Object(
  {
    replicas: Type.Optional(int('Replicas of the gateway Deployment (when autoscaling is not set); 1 by default.', 0, 1000)),
    resources: Type.Optional(
      Type.Object(
        {
          requests: Type.Optional(map(quantity('A quantity.'), 'Minimum compute resources, e.g. cpu: 100m, memory: 128Mi.', { maxProperties: 8 })),
          limits: Type.Optional(map(quantity('A quantity.'), 'Maximum compute resources.', { maxProperties: 8 })),
        },
        { description: 'Compute resources of the gateway container.' },
      ),
    ),
    serviceType: Type.Optional(
      strEnum(['ClusterIP', 'NodePort', 'LoadBalancer'], 'Type of the generated Service.', { default: 'LoadBalancer' }),
    ),
    podDisruptionBudget: Type.Optional(
      Type.Object(
        { minAvailable: intOrPercent('Pods that must stay available: a number or a percentage such as 50%.') },
        { description: 'Generate a PodDisruptionBudget for the gateway pods.' },
      ),
    ),
    autoscaling: Type.Optional(
      Type.Object(
        {
          minReplicas: int('Lower bound of replicas.', 1, 1000),
          maxReplicas: int('Upper bound of replicas.', 1, 1000),
          targetCPUUtilizationPercentage: Type.Optional(int('Target average CPU utilization; 80 by default.', 1, 100)),
        },
        {
          description: 'Generate a HorizontalPodAutoscaler for the gateway Deployment.',
          ...cel({ rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not be greater than maxReplicas', fieldPath: '.minReplicas' }),
        },
      ),
    ),
  },
  {
    description:
      "Weft's own extension (not part of Istio's Gateway): how Weft deploys the gateway workload. When set, Weft creates " +
      'a Deployment, a Service, and optionally a PodDisruptionBudget and a HorizontalPodAutoscaler labeled with selector.',
    ...cel({
      rule: '!(has(self.replicas) && has(self.autoscaling))',
      message: 'replicas and autoscaling are mutually exclusive',
      fieldPath: '.replicas',
    }),
  },
);
export type GatewayDeployment = Static<typeof GatewayDeployment>;

export const GatewaySpec = Type.Object(
  {
    selector: Type.Optional(labels('Labels that select the gateway workload (pods) this configuration applies to.')),
    servers: list(Server, 'Servers of this gateway (listeners).', MAX.servers, {
      minItems: 1,
      ...cel({
        rule: 'self.all(s, !has(s.name) || self.exists_one(t, has(t.name) && t.name == s.name))',
        message: 'server names must be unique',
      }),
    }),
    deployment: Type.Optional(GatewayDeployment),
  },
  {
    description: 'Gateway describes a load balancer at the edge of the mesh (Istio networking v1 Gateway, plus Weft\'s deployment).',
    ...cel({
      rule: '!has(self.deployment) || (has(self.selector) && size(self.selector) > 0)',
      message: 'selector is required with deployment: it labels the generated pods',
      fieldPath: '.selector',
      reason: 'FieldValueRequired',
    }),
  },
);
export type GatewaySpec = Static<typeof GatewaySpec>;

/** Where the gateway can be reached: from its generated Service (load balancer ingress, then cluster IP). */
export const GatewayAddress = Type.Object(
  {
    type: strEnum(['IPAddress', 'Hostname'], 'How to read value: an IP address or a DNS name.'),
    value: str('The address.', { minLength: 1, maxLength: MAX.host }),
  },
  { description: 'An address the gateway is reachable at.' },
);
export type GatewayAddress = Static<typeof GatewayAddress>;

/** The state of one server (listener); `index` is its position in spec.servers. */
export const GatewayServerStatus = Type.Object(
  {
    index: int('Position of the server in spec.servers.', 0, MAX.servers - 1),
    name: Type.Optional(str('spec.servers[index].name, when the server has one.', { maxLength: MAX.name })),
    port: port('spec.servers[index].port.number.'),
    conditions: Type.Optional(
      Type.Array(Condition, {
        description: 'Accepted (no conflict), ResolvedRefs (its TLS credential exists), Programmed (served).',
        maxItems: 8,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
  },
  { description: 'Status of one server of the gateway.' },
);
export type GatewayServerStatus = Static<typeof GatewayServerStatus>;

/** The status every kind reports, plus where the gateway is reachable and the state of each server. */
export const GatewayStatus = Type.Object(
  {
    ...MeshStatus.properties,
    addresses: Type.Optional(list(GatewayAddress, 'Addresses of the generated Service: load balancer ingress first, then the cluster IP.', 16)),
    servers: Type.Optional(list(GatewayServerStatus, 'Status of each server, in spec.servers order.', MAX.servers)),
  },
  { description: 'Status reported by the Weft operator for a Gateway.' },
);
export type GatewayStatus = Static<typeof GatewayStatus>;

export type Gateway = MeshObject<'Gateway', GatewaySpec> & { status?: GatewayStatus };

