// The agent's side of CreateCertificate: TLS to the operator, trusting only the mesh roots and only a server
// that presents the operator's SPIFFE ID (so the address may be an IP or any name), with the workload's
// ServiceAccount token as the credential.
import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { certificateServiceDefinition, type CreateCertificateRequest, type CreateCertificateResponse } from '../ca/proto.js';

const CertificateServiceClient = makeGenericClientConstructor(certificateServiceDefinition, 'CertificateService');

type UnaryMethod = (request: CreateCertificateRequest, metadata: Metadata, options: { deadline: number }, callback: (err: ServiceError | null, response?: CreateCertificateResponse) => void) => void;

export interface CaClientOptions {
  /** host:port of the operator's TLS gRPC port. */
  address: string;
  /** PEM roots to verify the server with. */
  rootsPem: string;
  /** The SPIFFE ID the server must present, e.g. spiffe://cluster.local/ns/weft-system/sa/weft-operator. */
  serverIdentity: string;
  /** TLS server name (SNI) to send when the address is an IP (SNI cannot carry IPs). */
  serverName: string;
}

export class CaRequestError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export class CaClient {
  private readonly client: Client;

  constructor(readonly options: CaClientOptions) {
    const creds = credentials.createSsl(Buffer.from(options.rootsPem), null, null, {
      // Replaces the host name check: the server proves who it is by its SPIFFE ID.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        const sans = (cert.subjectaltname ?? '').split(', ');
        return sans.includes(`URI:${options.serverIdentity}`)
          ? undefined
          : new Error(`the CA server presented ${cert.subjectaltname || 'no SAN'}, not ${options.serverIdentity}`);
      },
    });
    const host = options.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    this.client = new CertificateServiceClient(options.address, creds, isIP(host) ? { 'grpc.ssl_target_name_override': options.serverName } : {});
  }

  async createCertificate(csrPem: string, validitySeconds: number, token: string, timeoutMs = 15_000): Promise<CreateCertificateResponse> {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const call = (this.client as unknown as { CreateCertificate: UnaryMethod }).CreateCertificate.bind(this.client);
    return new Promise((resolve, reject) => {
      call({ csr: csrPem, validity_duration: validitySeconds }, metadata, { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err) reject(new CaRequestError(err.code, `${status[err.code]}: ${err.details}`));
        else resolve(response!);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
