"""A gRPC C-core (Python grpcio) xDS client: the stricter second peer. Dials xds:///<target> with a bootstrap
pointing at the operator, runs RPCs, prints how many each backend served (JSON).
usage: ccore_client.py <xds port> <host:port> <count> [header=value]"""
import collections, json, os, sys

port, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
metadata = [tuple(sys.argv[4].split('=', 1))] if len(sys.argv) > 4 else None
os.environ['GRPC_XDS_BOOTSTRAP_CONFIG'] = json.dumps({
    'xds_servers': [{'server_uri': f'127.0.0.1:{port}', 'channel_creds': [{'type': 'insecure'}], 'server_features': ['xds_v3']}],
    'node': {'id': 'ccore-client', 'locality': {'zone': 'e2e'}, 'metadata': {'GENERATOR': 'grpc'}},
})
import grpc  # after the bootstrap is set: C-core reads it when the first xds channel is made

channel = grpc.insecure_channel(f'xds:///{target}')
call = channel.unary_unary('/weft.test.Echo/Call', request_serializer=lambda x: x, response_deserializer=lambda x: x)
counts = collections.Counter()
for _ in range(count):
    try:
        counts[json.loads(call(b'{}', metadata=metadata, timeout=10, wait_for_ready=True))['backend']] += 1
    except grpc.RpcError as e:
        counts[f'error:{e.code().name}'] += 1
print(json.dumps(counts))
