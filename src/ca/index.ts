// The CA in the operator: every replica reads the CA Secret and serves CreateCertificate on the TLS port with a
// serving certificate from the same CA; the leader creates and rotates the CA and keeps every namespace's trust
// bundle ConfigMap in step.
//
//   store.ts          every replica: CA Secret -> CertificateAuthority
//   ca-controller.ts  leader: create / import / rotate, write the Secret (rotation.ts plans, transitions.ts applies)
//   trust-bundle.ts   leader: ConfigMap weft-root-ca in every namespace
//   server.ts         every replica: TLS gRPC port; service.ts is CreateCertificate; serving.ts its certificate
import type { ChannelOptions, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { EventRecorder, KubeObject, Manager } from '../controllers/index.js';
import { requireServiceAccount } from './authenticated.js';
import { resources } from '../controllers/index.js';
import { registerCaController } from './ca-controller.js';
import type { CaConfig } from './config.js';
import { CaMetrics } from './metrics.js';
import { certificateServiceDefinition } from './proto.js';
import { SecureServer } from './server.js';
import { ServingCertificate } from './serving.js';
import { certificateService } from './service.js';
import { CaStore, type Secret } from './store.js';
import { TokenAuthenticator, tokenReviewVia } from './token-review.js';
import { registerTrustBundleController } from './trust-bundle.js';

export interface CaOptions {
  config: CaConfig;
  /** Where the CA Secrets live (the operator's namespace). */
  namespace: string;
  /** The operator's ServiceAccount: the identity in its serving certificate. */
  serviceAccount: string;
  /** The TLS gRPC port; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** gRPC server options for that port (the xDS limits, when xDS is served there too). */
  serverOptions?: ChannelOptions;
  /** Connections one client IP may hold open on that port (unlimited when absent). */
  maxConnectionsPerPeer?: number;
  /** Every connection that port accepts (xDS watches for connect storms there too). */
  onConnectionAccepted?(): void;
  /** Names clients may dial, besides the SPIFFE ID (which the agent verifies). */
  dnsNames: string[];
  ipAddresses: string[];
}

export interface CaHandle {
  store: CaStore;
  server: SecureServer;
  /** The operator's serving certificate (and the trust bundle), for its other TLS endpoints (the injection webhook). */
  serving: ServingCertificate;
  /** Serves `definition` on the TLS port to callers with a valid ServiceAccount token only (e.g. ADS). */
  addAuthenticatedService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void;
}

export function registerCa(manager: Manager, events: EventRecorder, options: CaOptions): CaHandle {
  const log = manager.log.child({ component: 'ca' });
  const secrets = manager.informer<Secret>({ resource: resources.secrets, namespace: options.namespace });
  const store = new CaStore(options.namespace, secrets, log);
  const metrics = new CaMetrics(manager.metrics.registry, store);
  const { config } = options;

  registerCaController(manager, secrets, { namespace: options.namespace, config, events });
  registerTrustBundleController(manager, store, secrets);

  const serving = new ServingCertificate(store, {
    identity: { trustDomain: config.trustDomain, namespace: options.namespace, serviceAccount: options.serviceAccount },
    dnsNames: options.dnsNames,
    ipAddresses: options.ipAddresses,
    ttlMs: config.defaultWorkloadTtlMs,
    keyAlgorithm: config.keyAlgorithm,
    log,
    onIssued: (notAfter) => metrics.setServingExpiry(notAfter),
  });
  const server = new SecureServer(serving, {
    ...options.listen,
    log,
    ...(options.serverOptions ? { serverOptions: options.serverOptions } : {}),
    ...(options.maxConnectionsPerPeer !== undefined ? { maxConnectionsPerPeer: options.maxConnectionsPerPeer } : {}),
    ...(options.onConnectionAccepted ? { onConnectionAccepted: options.onConnectionAccepted } : {}),
    onConnectionRefused: () => metrics.connectionRefused(),
  });
  const authenticator = new TokenAuthenticator(tokenReviewVia(manager.client), { audience: config.tokenAudience, trustDomain: config.trustDomain });
  // A deleted (or deleted and re-created) ServiceAccount's tokens lose their cached approval at once.
  manager
    .informer<KubeObject>({ resource: resources.serviceAccounts })
    .on({ onDelete: (sa) => authenticator.forget(sa.metadata?.namespace ?? '', sa.metadata?.name ?? '') });
  server.addService(
    certificateServiceDefinition,
    certificateService({
      store,
      authenticate: (token) => authenticator.authenticate(token),
      policy: { defaultTtlMs: config.defaultWorkloadTtlMs, maxTtlMs: config.maxWorkloadTtlMs },
      log,
      metrics,
    }),
  );
  manager.add(server);
  return {
    store,
    server,
    serving,
    addAuthenticatedService: (definition, implementation) =>
      server.addService(definition, requireServiceAccount(definition, implementation, (token) => authenticator.authenticate(token), log)),
  };
}

export { caConfigProblems, DEFAULT_CA_CONFIG, parseDuration, type CaConfig } from './config.js';
