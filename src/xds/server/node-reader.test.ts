// The node read off the wire (node-reader.ts), in SotW and delta requests, against protobufjs's decoding of the same
// bytes turned into JSON as the server did before (the reference below): every field Weft uses, every kind of
// metadata Value, fields it skips, fields that come twice; and the rest of a delta request kept around it.
import { describe, expect, it } from '@jest/globals';
import protobuf from 'protobufjs';
import { messageType } from '../protos.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest, type JsonValue, type NodeMessage } from './messages.js';
import { MAX_METADATA_DEPTH, readNode } from './node-reader.js';

const nodeBytes = (node: object) => {
  const t = messageType('envoy.config.core.v3.Node');
  return Buffer.from(t.encode(t.fromObject(node)).finish());
};

interface RawValue {
  kind?: string;
  stringValue?: string;
  numberValue?: number;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, RawValue> };
  listValue?: { values?: RawValue[] };
}
const structJson = (s: { fields?: Record<string, RawValue> } | null | undefined): Record<string, JsonValue> =>
  Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, valueJson(v)]));
const valueJson = (v: RawValue): JsonValue =>
  v.kind === 'structValue' ? structJson(v.structValue) : v.kind === 'listValue' ? (v.listValue?.values ?? []).map(valueJson) : v.kind === 'stringValue' ? v.stringValue! : v.kind === 'numberValue' ? v.numberValue! : v.kind === 'boolValue' ? v.boolValue! : null;

/** protobufjs's Node, as JSON the way the server made it before node-reader.ts. */
function reference(bytes: Buffer): NodeMessage {
  const raw = messageType('envoy.config.core.v3.Node').decode(bytes) as unknown as {
    id: string;
    cluster: string;
    user_agent_name: string;
    metadata?: { fields?: Record<string, RawValue> } | null;
    locality?: { region: string; zone: string; sub_zone: string } | null;
  };
  return {
    id: raw.id,
    cluster: raw.cluster,
    metadata: structJson(raw.metadata),
    ...(raw.locality ? { locality: { region: raw.locality.region, zone: raw.locality.zone, sub_zone: raw.locality.sub_zone } } : {}),
    user_agent_name: raw.user_agent_name,
  };
}

const field = (n: number, payload: Uint8Array) => Buffer.concat([Buffer.from([(n << 3) | 2]), Buffer.from(protobuf.Writer.create().uint32(payload.length).finish()), payload]);

/** The node through SotW's request (field 2), delta's (field 1), and the reference. */
function bothWays(bytes: Buffer): { read: NodeMessage | undefined; protobufjs: NodeMessage } {
  const sotw = decodeDiscoveryRequest(field(2, bytes)).node;
  expect(decodeDeltaDiscoveryRequest(field(1, bytes)).node).toEqual(sotw);
  return { read: sotw, protobufjs: reference(bytes) };
}

const full = {
  id: 'sidecar~10.0.0.7~web-1.shop~shop.svc.cluster.local',
  cluster: 'web.shop',
  user_agent_name: 'envoy',
  user_agent_build_version: { version: { major_number: 1, minor_number: 31 } },
  locality: { region: 'r1', zone: 'z1', sub_zone: 's1' },
  client_features: ['envoy.lb.does_not_support_overprovisioning'],
  extensions: [{ name: 'e', category: 'c' }],
  metadata: {
    fields: {
      NAME: { stringValue: 'web-1' },
      EMPTY: { stringValue: '' },
      PROXYLESS: { boolValue: true },
      OFF: { boolValue: false },
      N: { numberValue: -2.5 },
      ZERO: { numberValue: 0 },
      NOTHING: { nullValue: 'NULL_VALUE' },
      UNSET: {},
      LABELS: { structValue: { fields: { app: { stringValue: 'web' }, 'topology.kubernetes.io/zone': { stringValue: 'z1' } } } },
      LIST: { listValue: { values: [{ stringValue: 'a' }, { numberValue: 1 }, { listValue: { values: [] } }, { structValue: { fields: {} } }, {}] } },
      'ünïcode ✓': { stringValue: '✓' },
    },
  },
};

describe('readNode', () => {
  it('reads what protobufjs reads: id, cluster, user agent, locality and every kind of metadata value', () => {
    const { read, protobufjs } = bothWays(nodeBytes(full));
    expect(read).toEqual(protobufjs);
    expect(read).toEqual({
      id: full.id,
      cluster: 'web.shop',
      user_agent_name: 'envoy',
      locality: { region: 'r1', zone: 'z1', sub_zone: 's1' },
      metadata: {
        NAME: 'web-1',
        EMPTY: '',
        PROXYLESS: true,
        OFF: false,
        N: -2.5,
        ZERO: 0,
        NOTHING: null,
        UNSET: null,
        LABELS: { app: 'web', 'topology.kubernetes.io/zone': 'z1' },
        LIST: ['a', 1, [], {}, null],
        'ünïcode ✓': '✓',
      },
    });
  });

  it('fills defaults for an empty node, and leaves locality out when none came', () => {
    const { read, protobufjs } = bothWays(nodeBytes({}));
    expect(read).toEqual(protobufjs);
    expect(read).toEqual({ id: '', cluster: '', metadata: {}, user_agent_name: '' });
    expect(read).not.toHaveProperty('locality');
  });

  it('keeps the last of a field that comes twice, a message field replaced as protobufjs does', () => {
    const twice = Buffer.concat([
      nodeBytes({ id: 'first', metadata: { fields: { A: { stringValue: '1' } } }, locality: { zone: 'z1' } }),
      nodeBytes({ id: 'second', metadata: { fields: { B: { stringValue: '2' } } }, locality: { region: 'r2' } }),
    ]);
    const { read, protobufjs } = bothWays(twice);
    expect(read).toEqual(protobufjs);
    expect(read).toMatchObject({ id: 'second', metadata: { B: '2' }, locality: { region: 'r2', zone: '', sub_zone: '' } });
  });

  it('refuses metadata nested deeper than any proxy sends, rather than running the stack down', () => {
    // Written by hand: protobufjs's fromObject stops at 100 objects deep itself.
    const nested = (levels: number) => {
      let value: Buffer = field(3, Buffer.from('bottom')); // Value.string_value
      for (let i = 0; i < levels; i++) value = field(5, field(1, Buffer.concat([field(1, Buffer.from('x')), field(2, value)]))); // Value.struct_value{fields{x: value}}
      const node = field(3, field(1, Buffer.concat([field(1, Buffer.from('top')), field(2, value)]))); // Node.metadata{fields{top: value}}
      return () => readNode(protobuf.Reader.create(node), node.length);
    };
    expect(nested(MAX_METADATA_DEPTH)).toThrow(`node metadata nests deeper than ${MAX_METADATA_DEPTH} levels`);
    const ok = nested(MAX_METADATA_DEPTH - 1)();
    let depth = 1;
    for (let v = ok.metadata.top; typeof v === 'object' && v !== null && !Array.isArray(v); v = v.x) depth++;
    expect(depth).toBe(MAX_METADATA_DEPTH);
  });

  it('keeps the rest of a delta request around its node, wherever the node comes', () => {
    const t = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    const rest = Buffer.from(
      t.encode(t.fromObject({ type_url: 'T', response_nonce: 'n', resource_names_subscribe: ['a', 'b'], resource_names_unsubscribe: ['c'], initial_resource_versions: { a: 'v1' }, error_detail: { code: 3, message: 'bad' } })).finish(),
    );
    const node = field(1, nodeBytes({ id: 'n1', metadata: { fields: { A: { stringValue: 'x' } } } }));
    for (const bytes of [Buffer.concat([node, rest]), Buffer.concat([rest, node]), Buffer.concat([rest.subarray(0, 3), node, rest.subarray(3)])]) {
      expect(decodeDeltaDiscoveryRequest(bytes)).toEqual({
        type_url: 'T',
        response_nonce: 'n',
        resource_names_subscribe: ['a', 'b'],
        resource_names_unsubscribe: ['c'],
        initial_resource_versions: { a: 'v1' },
        error_detail: { code: 3, message: 'bad' },
        node: { id: 'n1', cluster: '', metadata: { A: 'x' }, user_agent_name: '' },
      });
    }
    expect(decodeDeltaDiscoveryRequest(rest)).not.toHaveProperty('node');
  });
});
