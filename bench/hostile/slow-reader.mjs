// A hostile xDS client for bench/hostile/slow-reader.sh: one ADS stream, as an Envoy sidecar (wildcard LDS and CDS,
// the outbound routes of port 9080: every push of a route change carries the whole route table), that never
// reads. Prints one JSON line when the server ends the stream: how, and after how long.
//   node bench/hostile/slow-reader.mjs <plaintext xDS port>
import { openAdsStream, discoveryRequestFrame, plaintextSession, statusOf } from '../../dist/xds/testing/raw-ads.js';
import { TypeUrl } from '../../dist/xds/protos.js';

const port = Number(process.argv[2]);
const node = { id: 'sidecar~127.0.0.99~slow-0.bench~bench.svc.cluster.local', locality: { zone: 'bench' } };
const session = plaintextSession(port);
session.on('error', () => undefined);
const stream = openAdsStream(session);
const ended = statusOf(stream);
for (const [type_url, resource_names] of [[TypeUrl.listener, []], [TypeUrl.cluster, []], [TypeUrl.route, ['9080']]]) {
  stream.write(discoveryRequestFrame({ node, type_url, resource_names }));
}
stream.pause(); // never reads: every push waits in the server until the cap
const started = Date.now();
process.stdout.write(JSON.stringify({ event: 'open' }) + '\n');
const outcome = await ended;
process.stdout.write(JSON.stringify({ event: 'ended', afterSeconds: (Date.now() - started) / 1000, outcome: outcome ?? null }) + '\n');
session.destroy();
