// A mesh workload in its own process, configured entirely by xDS through the bootstrap `weft agent` wrote
// (GRPC_XDS_BOOTSTRAP; its certificate provider is the agent's files): either a grpc-js-xds XdsServer (mTLS and
// RBAC from its server listener) or a client dialing xds:///<target> with xDS credentials. Driven over IPC; no
// relative imports, because Node runs this file directly (type stripping).
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';

export interface WorkloadCall {
  code: number;
  details?: string;
  /** What the server saw: the caller's SPIFFE ID, or `plaintext`. */
  peer?: string;
}

xds.register();
const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString() || '{}'),
};
const method = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize });
const send = (message: object): void => void process.send!(message);

if (process.env.WORKLOAD_ROLE === 'server') {
  const server = new xds.XdsServer();
  const whoCalled = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
    const san = call.getAuthContext().sslPeerCertificate?.subjectaltname ?? '';
    callback(null, { peer: /URI:(\S+)/.exec(san)?.[1]?.replace(/,$/, '') ?? 'plaintext' });
  };
  server.addService({ Call: method('/weft.test.Echo/Call'), Admin: method('/weft.test.Echo/Admin') } as grpc.ServiceDefinition, { Call: whoCalled, Admin: whoCalled });
  server.bindAsync(process.env.WORKLOAD_ADDRESS!, new xds.XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (err) => {
    send(err ? { ready: false, error: err.message } : { ready: true });
  });
  process.on('message', () => server.forceShutdown());
} else {
  const client = new grpc.Client(`xds:///${process.env.WORKLOAD_TARGET}`, new xds.XdsChannelCredentials(grpc.credentials.createInsecure()));
  send({ ready: true });
  process.on('message', (cmd: { id: number; path: string; count: number }) => {
    const calls = Array.from({ length: cmd.count }, () =>
      new Promise<WorkloadCall>((resolve) =>
        client.makeUnaryRequest(cmd.path, json.serialize, json.deserialize, {}, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (err, reply) =>
          resolve(err ? { code: err.code, details: err.details } : { code: 0, peer: (reply as { peer: string }).peer }),
        ),
      ),
    );
    void Promise.all(calls).then((results) => send({ id: cmd.id, results }));
  });
}
