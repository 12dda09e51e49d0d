// Invalid variants of the samples, generated from a seed (the same seed gives the same 500): each changes one field
// of one sample to something a proxy would reject or that breaks a reference. Every one is expected to be refused,
// by the API server (schema, CEL) or by the operator (Accepted=False naming the field).
type Json = Record<string, any>;

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Mutation {
  kind: string;
  /** What was changed, for the report. */
  what: string;
  /** The field an error must name: a path prefix as the API server or the operator spells it. */
  field: string;
  spec: Json;
}

type Mutator = (spec: Json, n: number) => { what: string; field: string } | undefined;

const BAD_REGEXES = ['(unclosed', '(?=lookahead)', '(?<!x)y', '[z-a]', 'a{2,1}', '(a)\\1', '*', 'x**'];
/** A header's regex `*` is Istio's presence match, not a bad pattern. */
const BAD_HEADER_REGEXES = BAD_REGEXES.filter((r) => r !== '*');
const BAD_DURATIONS = ['5 seconds', '-1s', '1d', 'fast', '10', '1.s'];

/** Mutators per kind: each edits `spec` in place (a clone) and says which field it broke, or declines. */
const mutators: Record<string, Mutator[]> = {
  VirtualService: [
    (s, n) => ((s.http[0].route[n % 2].destination.subset = `zz${n}`), { what: 'unknown subset', field: `spec.http[0].route[${n % 2}].destination.subset` }),
    (s, n) => ((s.http[0].route[n % 2].destination.host = `missing-${n}.example.org`), { what: 'unknown host', field: `spec.http[0].route[${n % 2}].destination.host` }),
    (s, n) => ((s.http[0].route[0].weight = 101 + n), { what: 'weight over 100', field: 'spec.http[0].route[0].weight' }),
    (s, n) => ((s.http[0].route[1].weight = -1 - n), { what: 'negative weight', field: 'spec.http[0].route[1].weight' }),
    (s, n) => ((s.http[0].route[0].weight = 10 + (n % 50)), { what: 'weights not summing to 100', field: 'spec.http[0].route' }),
    (s, n) => ((s.http[0].match = [{ uri: { regex: BAD_REGEXES[n % BAD_REGEXES.length] } }]), { what: 'RE2-invalid uri regex', field: 'spec.http[0].match[0].uri.regex' }),
    (s, n) => ((s.http[0].match = [{ headers: { 'x-user': { regex: BAD_HEADER_REGEXES[n % BAD_HEADER_REGEXES.length] } } }]), { what: 'RE2-invalid header regex', field: 'spec.http[0].match[0].headers' }),
    (s, n) => ((s.http[0].timeout = BAD_DURATIONS[n % BAD_DURATIONS.length]), { what: 'bad timeout', field: 'spec.http[0].timeout' }),
    (s, n) => ((s.http[0].retries.attempts = -1 - n), { what: 'negative retry attempts', field: 'spec.http[0].retries.attempts' }),
    (s, n) => ((s.http[0].retries.perTryTimeout = BAD_DURATIONS[n % BAD_DURATIONS.length]), { what: 'bad perTryTimeout', field: 'spec.http[0].retries.perTryTimeout' }),
    (s, n) => ((s.gateways = ['mesh', `missing-gw-${n}`]), { what: 'unknown gateway', field: 'spec.gateways[1]' }),
    (s, n) => ((s.http[0].fault = { abort: { httpStatus: 503, percentage: { value: 100 + n + 1 } } }), { what: 'fault percentage over 100', field: 'spec.http[0].fault.abort.percentage.value' }),
    (s, n) => ((s.http[0][`bogus${n}`] = true), { what: 'unknown field', field: `spec.http[0].bogus${n}` }),
    (s, n) => ((s.http[0].match = [{ headers: { [`bad header ${n}`]: { exact: 'x' } } }]), { what: 'invalid header name', field: `spec.http[0].match[0].headers[bad header ${n}]` }),
    (s, n) => ((s.http[0].route[0].destination.port.number = 65536 + n), { what: 'port out of range', field: 'spec.http[0].route[0].destination.port.number' }),
  ],
  DestinationRule: [
    (s, n) => ((s.host = `missing-${n}.example.org`), { what: 'unknown host', field: 'spec.host' }),
    (s, n) => ((s.trafficPolicy.loadBalancer.simple = `BOGUS_${n}`), { what: 'unknown load balancer', field: 'spec.trafficPolicy.loadBalancer.simple' }),
    (s, n) => ((s.trafficPolicy.connectionPool.tcp.connectTimeout = BAD_DURATIONS[n % BAD_DURATIONS.length]), { what: 'bad connectTimeout', field: 'spec.trafficPolicy.connectionPool.tcp.connectTimeout' }),
    (s, n) => ((s.trafficPolicy.outlierDetection.maxEjectionPercent = 101 + n), { what: 'ejection percent over 100', field: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent' }),
    (s, n) => ((s.trafficPolicy.connectionPool.tcp.maxConnections = -1 - n), { what: 'negative max connections', field: 'spec.trafficPolicy.connectionPool.tcp.maxConnections' }),
    (s) => ((s.subsets = [s.subsets[0], { ...s.subsets[0] }]), { what: 'duplicate subset', field: 'spec.subsets' }),
    (s, n) => ((s.trafficPolicy.outlierDetection.interval = BAD_DURATIONS[n % BAD_DURATIONS.length]), { what: 'bad outlier interval', field: 'spec.trafficPolicy.outlierDetection.interval' }),
  ],
  ServiceEntry: [
    (s, n) => ((s.ports[0].number = 65536 + n), { what: 'port out of range', field: 'spec.ports[0].number' }),
    (s, n) => ((s.resolution = `BOGUS_${n}`), { what: 'unknown resolution', field: 'spec.resolution' }),
    (s, n) => ((s.ports[0].protocol = `PROTO${n}`), { what: 'unknown protocol', field: 'spec.ports[0].protocol' }),
    (s, n) => ((s.addresses = [`not-an-ip-${n}`]), { what: 'bad address', field: 'spec.addresses' }),
    (s, n) => ((s.endpoints = [{ address: `127.0.0.${(n % 200) + 2}` }]), { what: 'endpoints with workloadSelector', field: 'spec' }),
  ],
  WorkloadEntry: [
    (s, n) => ((s.serviceAccount = `missing-${n}`), { what: 'unknown ServiceAccount', field: 'spec.serviceAccount' }),
    (s, n) => ((s.ports.grpc = 65536 + n), { what: 'port out of range', field: 'spec.ports.grpc' }),
    (s) => ((s.address = ''), { what: 'empty address', field: 'spec.address' }),
    (s, n) => ((s.weight = -1 - n), { what: 'negative weight', field: 'spec.weight' }),
  ],
  MeshPolicy: [
    (s, n) => ((s.telemetry.tracing.provider = `bogus${n}`), { what: 'unknown tracing provider', field: 'spec.telemetry.tracing.provider' }),
    (s, n) => ((s.mtls.mode = `BOGUS_${n}`), { what: 'unknown mtls mode', field: 'spec.mtls.mode' }),
    (s, n) => ((s.rateLimit.burst = Math.max(0, s.rateLimit.requestsPerUnit - 1 - (n % 50))), { what: 'burst below the rate', field: 'spec.rateLimit' }),
    (s) => ((s.authorization.rules = []), { what: 'DENY without rules', field: 'spec.authorization' }),
    (s, n) => ((s.telemetry.tracing.samplingPercentage = 101 + n), { what: 'sampling over 100%', field: 'spec.telemetry.tracing.samplingPercentage' }),
    (s, n) => ((s.rateLimit.unit = `FORTNIGHT${n}`), { what: 'unknown rate unit', field: 'spec.rateLimit.unit' }),
  ],
  Gateway: [
    (s, n) => ((s.servers[0].port.number = 65536 + n), { what: 'port out of range', field: 'spec.servers[0].port.number' }),
    (s, n) => ((s.servers[1].port.protocol = `BOGUS${n}`), { what: 'unknown protocol', field: 'spec.servers[1].port.protocol' }),
    (s) => (delete s.servers[0].tls.credentialName, { what: 'SIMPLE TLS without a credential', field: 'spec.servers[0].tls' }),
    (s, n) => ((s.servers[0].tls.minProtocolVersion = `TLSV9_${n}`), { what: 'unknown TLS version', field: 'spec.servers[0].tls.minProtocolVersion' }),
    (s) => ((s.servers[1].name = s.servers[0].name), { what: 'duplicate server names', field: 'spec.servers' }),
  ],
};

/** `count` mutations of `samples` (one object per kind), chosen by `seed`. */
export function mutations(samples: Json[], seed: number, count: number): Mutation[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const out: Mutation[] = [];
  while (out.length < count) {
    const sample = pick(samples.filter((s) => mutators[s.kind]));
    const spec = structuredClone(sample.spec);
    const change = pick(mutators[sample.kind]!)(spec, Math.floor(random() * 1000));
    if (change) out.push({ kind: sample.kind, spec, ...change });
  }
  return out;
}
