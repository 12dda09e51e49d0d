// The certificate service's wire protocol, modelled on Istio's istio.v1.auth.IstioCertificateService. The .proto
// text lives here (not in a .proto file) because the build ships dist/ only; protobufjs parses it at load.
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export const CA_PROTO = `
syntax = "proto3";
package weft.ca.v1;

// Issues workload certificates. The caller authenticates with its Kubernetes ServiceAccount token in the
// "authorization: Bearer <token>" metadata; the certificate carries that ServiceAccount's SPIFFE ID, whatever
// the CSR asks for.
service CertificateService {
  rpc CreateCertificate(CreateCertificateRequest) returns (CreateCertificateResponse);
}

message CreateCertificateRequest {
  // PEM-encoded PKCS#10 request, signed by the key it carries (ECDSA P-256/P-384 or RSA >= 2048).
  string csr = 1;
  // Requested lifetime in seconds; 0 for the CA's default. Longer than the CA's maximum is capped.
  int64 validity_duration = 2;
}

message CreateCertificateResponse {
  // PEM certificates: the workload certificate first, then the intermediates up to (not including) the root.
  repeated string cert_chain = 1;
  // PEM roots to trust: the current root, plus the next or previous one while a rotation overlaps.
  repeated string trust_bundle = 2;
  // The SPIFFE ID the certificate carries.
  string identity = 3;
  // Validity actually issued, in seconds since the epoch.
  int64 not_before = 4;
  int64 not_after = 5;
}
`;

export interface CreateCertificateRequest {
  csr: string;
  validity_duration: number;
}

export interface CreateCertificateResponse {
  cert_chain: string[];
  trust_bundle: string[];
  identity: string;
  not_before: number;
  not_after: number;
}

export const CREATE_CERTIFICATE_PATH = '/weft.ca.v1.CertificateService/CreateCertificate';

const root = protobuf.parse(CA_PROTO, { keepCase: true }).root;
const requestType = root.lookupType('weft.ca.v1.CreateCertificateRequest');
const responseType = root.lookupType('weft.ca.v1.CreateCertificateResponse');
const TO_OBJECT = { longs: Number, defaults: true, arrays: true };

function codec<T extends object>(type: protobuf.Type): { serialize: (value: T) => Buffer; deserialize: (bytes: Buffer) => T } {
  return {
    serialize: (value) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish()),
    deserialize: (bytes) => type.toObject(type.decode(bytes), TO_OBJECT) as T,
  };
}

const request = codec<CreateCertificateRequest>(requestType);
const response = codec<CreateCertificateResponse>(responseType);

/** For grpc-js servers (`server.addService`) and clients (`makeGenericClientConstructor`). */
export const certificateServiceDefinition: ServiceDefinition = {
  CreateCertificate: {
    path: CREATE_CERTIFICATE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
  },
};
