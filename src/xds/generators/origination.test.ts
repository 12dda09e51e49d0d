// TLS origination from a DestinationRule (tls SIMPLE / MUTUAL): Envoy sidecars verify the server against the named
// roots (the system's by default) and names, send SNI, and present client files for MUTUAL; valid Envoy config.
import { describe, expect, it } from '@jest/globals';
import type { DestinationRule } from '../../api/index.js';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import { destinationRule, serviceEntry } from '../../mesh/model/testing.js';
import { validateDestinationRule } from '../../mesh/destinationrule.js';
import { memoryLookup } from '../../mesh/lookup.js';
import { qualifyHost } from '../../mesh/hosts.js';
import { checkMessage } from '../proto-check.js';
import { TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { serviceClusters } from './clusters.js';

const HOST = 'payments.example.com';
const entry = serviceEntry('payments', 'shop', HOST, [{ number: 443, name: 'https', protocol: 'HTTPS' }], { location: 'MESH_EXTERNAL', resolution: 'DNS', workloadSelector: undefined });

function envoyCluster(rule: DestinationRule): ProtoMessage {
  const store = new MeshModelStore(memoryInputs({ serviceEntries: [entry], destinationRules: [rule] }));
  store.rebuildAll();
  const [cluster] = serviceClusters(store.service(HOST)!, 'envoy');
  expect(checkMessage(TypeUrl.cluster, cluster!.message)).toEqual([]);
  return cluster!.message;
}

describe('TLS origination', () => {
  it('verifies the server against the system roots and its names, with the host as SNI (SIMPLE)', () => {
    const rule = destinationRule('payments', 'shop', HOST, { trafficPolicy: { tls: { mode: 'SIMPLE', subjectAltNames: ['payments.example.com'] } } });
    expect(envoyCluster(rule).transport_socket).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: HOST,
        common_tls_context: {
          validation_context: {
            trusted_ca: { filename: '/etc/ssl/certs/ca-certificates.crt' },
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'payments.example.com' } }],
          },
        },
      },
    });
  });

  it('presents the client certificate files for MUTUAL, with the named CA and SNI', () => {
    const rule = destinationRule('payments', 'shop', HOST, {
      trafficPolicy: { tls: { mode: 'MUTUAL', clientCertificate: '/etc/certs/client.pem', privateKey: '/etc/certs/key.pem', caCertificates: '/etc/certs/ca.pem', sni: 'api.payments.example.com' } },
    });
    const context = (envoyCluster(rule).transport_socket as ProtoMessage).typed_config as ProtoMessage;
    expect(context.sni).toBe('api.payments.example.com');
    expect(context.common_tls_context).toEqual({
      tls_certificates: [{ certificate_chain: { filename: '/etc/certs/client.pem' }, private_key: { filename: '/etc/certs/key.pem' } }],
      validation_context: { trusted_ca: { filename: '/etc/certs/ca.pem' } },
    });
  });

  it('says in the DestinationRule’s status that proxyless clients cannot originate TLS', () => {
    const rule = destinationRule('payments', 'shop', HOST, { trafficPolicy: { tls: { mode: 'SIMPLE' } } });
    const verdict = validateDestinationRule(rule, memoryLookup({ serviceEntries: [entry], destinationRules: [rule] }, qualifyHost));
    expect(verdict).toMatchObject({ accepted: true });
    expect(verdict.message).toBe(`configures host ${HOST}; TLS origination (tls SIMPLE) applies to Envoy sidecars only: proxyless gRPC clients cannot originate it`);
  });
});
