// A gateway proxy as Envoy behaves on ADS (SotW): wildcard CDS and LDS, then the route configurations and SDS
// secrets its listeners name, each response decoded with Envoy's v3 protos and ACKed (or NACKed if it does not
// decode). No Envoy binary exists here; this is the part of Envoy's xDS client a gateway's config exercises.
import { messageType, TypeUrl } from '../../../src/xds/protos.js';
import { AdsTestClient, type SotwResponse, type SotwTestStream } from '../../../src/xds/testing/ads-client.js';

type Obj = Record<string, unknown>;
type AnyMessage = { type_url: string; value: Uint8Array };

export interface FilterChainView {
  serverNames?: string[];
  routes: string;
  sdsSecrets?: string[];
}
export interface ListenerView {
  port: number;
  listenerFilters?: string[];
  chains: FilterChainView[];
}
export interface VirtualHostView {
  domains: string[];
  requireTls?: string;
  routes: Array<{ prefix?: string; path?: string; cluster?: string }>;
}
export interface SecretView {
  certificateChain: string;
  privateKey: string;
}
export interface GatewayConfig {
  listeners: Map<string, ListenerView>;
  routes: Map<string, VirtualHostView[]>;
  secrets: Map<string, SecretView>;
  clusters: string[];
}

function unpack(any: AnyMessage): Obj {
  const type = messageType(any.type_url);
  return type.toObject(type.decode(any.value), { enums: String, longs: String, bytes: String, defaults: false, arrays: true }) as Obj;
}

function listenerView(l: Obj): ListenerView {
  const chains = (l.filter_chains as Obj[]).map((chain) => {
    const hcm = unpack((chain.filters as Obj[])[0]!.typed_config as AnyMessage);
    const match = chain.filter_chain_match as { server_names?: string[] } | undefined;
    const socket = chain.transport_socket as { typed_config: AnyMessage } | undefined;
    const tls = socket ? (unpack(socket.typed_config).common_tls_context as { tls_certificate_sds_secret_configs: Array<{ name: string }> }) : undefined;
    return {
      ...(match?.server_names ? { serverNames: match.server_names } : {}),
      routes: (hcm.rds as { route_config_name: string }).route_config_name,
      ...(tls ? { sdsSecrets: tls.tls_certificate_sds_secret_configs.map((s) => s.name) } : {}),
    };
  });
  const filters = (l.listener_filters as Obj[] | undefined)?.map((f) => f.name as string);
  return { port: ((l.address as Obj).socket_address as { port_value: number }).port_value, ...(filters ? { listenerFilters: filters } : {}), chains };
}

function routesView(r: Obj): VirtualHostView[] {
  return ((r.virtual_hosts as Obj[] | undefined) ?? []).map((vh) => ({
    domains: vh.domains as string[],
    ...(vh.require_tls ? { requireTls: vh.require_tls as string } : {}),
    routes: ((vh.routes as Obj[] | undefined) ?? []).map((route) => {
      const match = route.match as { prefix?: string; path?: string };
      const action = route.route as { cluster?: string } | undefined;
      return { ...(match.prefix !== undefined ? { prefix: match.prefix } : {}), ...(match.path ? { path: match.path } : {}), ...(action?.cluster ? { cluster: action.cluster } : {}) };
    }),
  }));
}

/** Bytes fields arrive as bytes from the stream's decoder, as base64 from `unpack`. */
const bytesText = (b: string | Uint8Array) => (typeof b === 'string' ? Buffer.from(b, 'base64') : Buffer.from(b)).toString('utf8');

export class GatewayProxy {
  private readonly state: GatewayConfig = { listeners: new Map(), routes: new Map(), secrets: new Map(), clusters: [] };
  private readonly nacks: string[] = [];
  private readonly last = new Map<string, SotwResponse>();
  private closed = false;

  private constructor(
    private readonly client: AdsTestClient,
    private readonly stream: SotwTestStream,
  ) {}

  static connect(address: string, nodeId: string): GatewayProxy {
    const client = new AdsTestClient(address);
    const proxy = new GatewayProxy(client, client.sotw());
    const node = { id: nodeId, cluster: nodeId.split('~')[2] ?? '', user_agent_name: 'envoy' };
    proxy.stream.send({ node, type_url: TypeUrl.cluster });
    proxy.stream.send({ type_url: TypeUrl.listener });
    void proxy.run();
    return proxy;
  }

  /** What the proxy holds now (what it ACKed). */
  config(): GatewayConfig {
    return this.state;
  }

  /** How the server ended the stream, if it did (e.g. PERMISSION_DENIED). */
  ended(): (Error & { code?: number; details?: string }) | undefined {
    return this.closed ? undefined : this.stream.endedWith;
  }

  /** Decode failures the proxy NACKed. */
  rejected(): string[] {
    return [...this.nacks];
  }

  close(): void {
    this.closed = true;
    this.stream.close();
    this.client.close();
  }

  private async run(): Promise<void> {
    for await (const res of this.stream.responses()) {
      try {
        this.take(res);
      } catch (err) {
        this.nacks.push(`${res.type_url}: ${String(err)}`);
        this.stream.send({ type_url: res.type_url, response_nonce: res.nonce, resource_names: this.subscribed(res.type_url), error_detail: { code: 3, message: String(err) } });
      }
    }
  }

  private take(res: SotwResponse): void {
    this.last.set(res.type_url, res);
    const names = res.resources.map((r) => r.name);
    switch (res.type_url) {
      case TypeUrl.cluster:
        this.state.clusters = names;
        break;
      case TypeUrl.listener:
        this.state.listeners = new Map(res.resources.map((r) => [r.name, listenerView(r.message)]));
        break;
      case TypeUrl.route:
        for (const r of res.resources) this.state.routes.set(r.name, routesView(r.message));
        break;
      case TypeUrl.secret:
        for (const r of res.resources) {
          type DataSource = { inline_bytes?: string | Uint8Array };
          const tls = r.message.tls_certificate as { certificate_chain?: DataSource; private_key?: DataSource } | undefined;
          const text = (d: DataSource | undefined) => (d?.inline_bytes === undefined ? '' : bytesText(d.inline_bytes));
          this.state.secrets.set(r.name, { certificateChain: text(tls?.certificate_chain), privateKey: text(tls?.private_key) });
        }
        break;
    }
    this.stream.ack(res, this.subscribed(res.type_url));
    if (res.type_url === TypeUrl.listener) {
      // New listeners may name routes and secrets not asked for yet: ask (Envoy subscribes as listeners warm).
      this.subscribe(TypeUrl.route);
      this.subscribe(TypeUrl.secret);
    }
  }

  private subscribed(typeUrl: string): string[] {
    const chains = [...this.state.listeners.values()].flatMap((l) => l.chains);
    if (typeUrl === TypeUrl.route) return [...new Set(chains.map((c) => c.routes))].sort();
    if (typeUrl === TypeUrl.secret) return [...new Set(chains.flatMap((c) => c.sdsSecrets ?? []))].sort();
    return [];
  }

  private subscribe(typeUrl: string): void {
    const names = this.subscribed(typeUrl);
    if (names.length === 0) return;
    const last = this.last.get(typeUrl);
    this.stream.send({ type_url: typeUrl, resource_names: names, ...(last ? { version_info: last.version_info, response_nonce: last.nonce } : {}) });
  }
}
