// The first request of a connect storm's streams (the load generator's: a proxyless node with its metadata and six
// listener names; SotW, or delta with --delta) decoded by this checkout and by another, in one process: per 2000
// requests, the first pass (code not yet optimised, as in a storm after a start) and warm passes. For changes to
// src/xds/server/messages.ts. The first side's first pass also warms what both share (protobufjs's reader): run it
// both ways (--after-first).
//
//   node --experimental-transform-types bench/request-decode.ts --before /path/to/other/checkout [--rounds 6] [--after-first] [--delta]
import '../hack/ts-sources.mjs'; // first: maps the sources' './x.js' imports to './x.ts'
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { before: { type: 'string' }, rounds: { type: 'string', default: '6' }, 'after-first': { type: 'boolean', default: false }, delta: { type: 'boolean', default: false } } });
if (!values.before) {
  console.error('usage: request-decode.ts --before <checkout> [--rounds N] [--after-first] [--delta]');
  process.exit(2);
}
type Decode = (bytes: Buffer) => unknown;
const decoder = values.delta ? 'decodeDeltaDiscoveryRequest' : 'decodeDiscoveryRequest';
const before = ((await import(resolve(values.before, 'src/xds/server/messages.ts'))) as Record<string, Decode>)[decoder]!;
const after = ((await import('../src/xds/server/messages.js')) as unknown as Record<string, Decode>)[decoder]!;
const { messageType } = await import('../src/xds/protos.js');

const type = messageType(values.delta ? 'envoy.service.discovery.v3.DeltaDiscoveryRequest' : 'envoy.service.discovery.v3.DiscoveryRequest');
const names = (list: string[]) => (values.delta ? { resource_names_subscribe: list } : { resource_names: list });
const requests = Array.from({ length: 2000 }, (_, i) =>
  Buffer.from(
    type
      .encode(
        type.fromObject({
          type_url: 'type.googleapis.com/envoy.config.listener.v3.Listener',
          ...names(Array.from({ length: 6 }, (_, k) => `svc-${k}.bench.svc.cluster.local:80`)),
          node: {
            id: `sidecar~127.0.1.${i % 250}~client-${i}.bench~bench.svc.cluster.local`,
            user_agent_name: 'grpc-go',
            user_agent_version: '1.70.0',
            locality: { region: 'local', zone: 'a' },
            client_features: ['envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw'],
            metadata: {
              fields: {
                ISTIO_VERSION: { stringValue: '1.31.0' },
                NAMESPACE: { stringValue: 'bench' },
                INSTANCE_IPS: { stringValue: `127.0.1.${i % 250}` },
                CLUSTER_ID: { stringValue: 'Kubernetes' },
                LABELS: { structValue: { fields: { app: { stringValue: 'bench-client' } } } },
              },
            },
          },
        }),
      )
      .finish(),
  ),
);

/** Milliseconds per pass over the 2000 requests (`passes` of them). */
function time(decode: Decode, passes: number): number {
  const start = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) for (const bytes of requests) decode(bytes);
  return Number(process.hrtime.bigint() - start) / 1e6 / passes;
}

const first = values['after-first']
  ? { after: time(after, 1), before: time(before, 1) }
  : { before: time(before, 1), after: time(after, 1) };
console.log(`first pass (${values['after-first'] ? 'after' : 'before'} first): before ${first.before.toFixed(1)} ms, after ${first.after.toFixed(1)} ms per 2000 first requests`);
for (let round = 1; round <= Number(values.rounds); round++) {
  console.log(`warm round ${round}: before ${time(before, 10).toFixed(1)} ms, after ${time(after, 10).toFixed(1)} ms per 2000`);
}
