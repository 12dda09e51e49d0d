// The test service: weft.test.Echo/Call answers with the name of the backend that served it. Messages are JSON,
// so no .proto is needed on either side.
import type * as grpc from '@grpc/grpc-js';

export interface EchoRequest {
  /** Ask the backend to sleep this long before answering. */
  sleepMs?: number;
}
export interface EchoReply {
  backend: string;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString() || '{}'),
};

export const ECHO_PATH = '/weft.test.Echo/Call';
export const OTHER_PATH = '/weft.test.Other/Call';

/** The service definition for a path (two services let a test route by path prefix). */
export function echoService(path = ECHO_PATH): grpc.ServiceDefinition {
  return {
    Call: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: json.serialize,
      requestDeserialize: json.deserialize,
      responseSerialize: json.serialize,
      responseDeserialize: json.deserialize,
    },
  } as grpc.ServiceDefinition;
}
