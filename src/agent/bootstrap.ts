// The gRPC xDS bootstrap `weft agent` writes for its workload (GRPC_XDS_BOOTSTRAP=<dir>/bootstrap.json): the
// xDS server is the agent itself on localhost (plaintext: grpc-js-xds cannot do TLS to a control plane; the
// agent carries the authenticated hop), and one file_watcher certificate provider, "default", over the files the
// agent keeps fresh. xDS security config names that provider (src/security/tls.ts).
import { CERTIFICATE_PROVIDER_INSTANCE } from '../security/tls.js';
import { CERT_CHAIN_FILE, KEY_FILE, ROOT_CERT_FILE } from './files.js';
import { join } from 'node:path';

/** Server listener names the xDS server must answer: `weft/grpc/lds/inbound/<ip>:<port>`. */
export const SERVER_LISTENER_TEMPLATE = 'weft/grpc/lds/inbound/%s';
export const BOOTSTRAP_FILE = 'bootstrap.json';

export interface BootstrapOptions {
  /** host:port of the xDS server (the agent's local endpoint). */
  xdsServer: string;
  /** Where cert-chain.pem, key.pem and root-cert.pem are. */
  credentialsDir: string;
  nodeId: string;
  locality: { region: string; zone: string; sub_zone: string };
  /** Istio-style node metadata (GENERATOR, NAMESPACE, SERVICE_ACCOUNT, INSTANCE_IPS, LABELS, ...). */
  metadata: Record<string, string | Record<string, string>>;
  /** How often gRPC re-reads the files, e.g. "60s": well under half a certificate lifetime. */
  refreshInterval: string;
}

export function grpcBootstrap(options: BootstrapOptions): Record<string, unknown> {
  return {
    xds_servers: [{ server_uri: options.xdsServer, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: options.nodeId, locality: options.locality, metadata: options.metadata },
    certificate_providers: {
      [CERTIFICATE_PROVIDER_INSTANCE]: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: join(options.credentialsDir, CERT_CHAIN_FILE),
          private_key_file: join(options.credentialsDir, KEY_FILE),
          ca_certificate_file: join(options.credentialsDir, ROOT_CERT_FILE),
          refresh_interval: options.refreshInterval,
        },
      },
    },
    server_listener_resource_name_template: SERVER_LISTENER_TEMPLATE,
  };
}

/** Istio's proxyless node id: `sidecar~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`. */
export function nodeIdFor(ip: string, podName: string, namespace: string): string {
  return `sidecar~${ip}~${podName}.${namespace}~${namespace}.svc.cluster.local`;
}
