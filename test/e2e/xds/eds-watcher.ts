// A proxyless "client" that only watches one cluster's endpoints over a raw ADS stream (SotW), ACKing each
// response: for checking what EDS says without dialling the addresses (kwok's Pod IPs must never be dialled).
import { TypeUrl } from '../../../src/xds/protos.js';
import { AdsTestClient, type SotwTestStream } from '../../../src/xds/testing/ads-client.js';

type Assignment = {
  endpoints?: Array<{ lb_endpoints?: Array<{ endpoint?: { address?: { socket_address?: { address?: string; port_value?: number } } } }> }>;
};

export class EdsWatcher {
  /** `address:port` of every endpoint in the last ClusterLoadAssignment received, sorted; undefined before one arrives. */
  private endpoints: string[] | undefined;

  private constructor(
    private readonly client: AdsTestClient,
    private readonly stream: SotwTestStream,
    private readonly cluster: string,
  ) {}

  static watch(address: string, nodeId: string, cluster: string): EdsWatcher {
    const client = new AdsTestClient(address);
    const watcher = new EdsWatcher(client, client.sotw(), cluster);
    watcher.stream.send({ node: { id: nodeId, locality: { zone: 'e2e' }, metadata: { GENERATOR: 'grpc' } }, type_url: TypeUrl.endpoint, resource_names: [cluster] });
    void watcher.run();
    return watcher;
  }

  current(): string[] | undefined {
    return this.endpoints;
  }

  /**
   * `ip:port` of the ready Pods' `ips`, sorted as served, once there are `replicas` of them and exactly those are
   * served; otherwise throws naming both sides, so that inside `eventually` a timeout says what each last held. The
   * port is added before sorting: "10.0.0.1" sorts before "10.0.0.10", but "10.0.0.1:8080" after "10.0.0.10:8080".
   */
  servesExactly(ips: readonly string[], port: number, replicas: number): string[] {
    const expected = ips.map((ip) => `${ip}:${port}`).sort();
    if (ips.length === replicas && JSON.stringify(this.endpoints) === JSON.stringify(expected)) return expected;
    throw new Error(`${ips.length} of ${replicas} ready Pods ${JSON.stringify(expected)}, served ${JSON.stringify(this.endpoints)}`);
  }

  close(): void {
    this.stream.close();
    this.client.close();
  }

  private async run(): Promise<void> {
    for await (const res of this.stream.responses()) {
      const mine = res.resources.find((r) => r.name === this.cluster);
      if (mine) {
        const assignment = mine.message as Assignment;
        this.endpoints = (assignment.endpoints ?? [])
          .flatMap((l) => l.lb_endpoints ?? [])
          .map((e) => `${e.endpoint?.address?.socket_address?.address}:${e.endpoint?.address?.socket_address?.port_value}`)
          .sort();
      }
      this.stream.ack(res, [this.cluster]);
    }
  }
}
