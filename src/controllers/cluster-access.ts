// How RestClient reaches the API server: its URL, and a way to send one request with the cluster's credentials.
// The static cases that every operator Pod and most kubeconfigs are (in-cluster, client certificates, bearer
// tokens) are served by Weft over node:https, without @kubernetes/client-node: importing it costs ~80 MiB of RSS
// (its KubeConfig pulls in the whole generated API), a third of the operator's memory at 1000 services. Everything
// else (exec plugins, auth providers, basic auth, proxies, keys Weft does not know) loads client-node on the first
// request and goes through its KubeConfig, so no kubeconfig stops working.
import { ClientNodeAccess } from './client-node-access.js';
import { readClusterSettings, type ReadOptions } from './kubeconfig.js';
import { StaticAccess } from './static-access.js';

export interface HttpRequest {
  method: string;
  url: URL;
  /** Without credentials: the access adds them. */
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Read it to the end (or abort the request): an unread body holds its connection. */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

export interface ClusterAccess {
  /** The API server's URL, without a trailing slash. */
  readonly server: string;
  /** The current context's namespace (in-cluster: the ServiceAccount's); undefined if it names none. */
  readonly namespace: string | undefined;
  /** Sends one request with credentials read for it: exec plugins and projected tokens rotate. */
  send(request: HttpRequest): Promise<HttpResponse>;
  /** Closes pooled connections; send() opens a new pool afterwards. */
  close(): Promise<void>;
}

export type LoadOptions = ReadOptions;

/**
 * The cluster in `kubeconfigPath`, else where client-node's loadFromDefault looks (KUBECONFIG, ~/.kube/config,
 * in-cluster). Reads the files now (a missing or malformed one throws here, not on the first request).
 */
export function loadClusterAccess(options: LoadOptions = {}): ClusterAccess {
  const settings = readClusterSettings(options);
  if (settings.kind === 'static') return new StaticAccess(settings);
  const { kubeconfigPath, context } = options;
  return new ClientNodeAccess(settings.server, settings.namespace, (kc) => {
    if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromDefault();
    if (context) kc.setCurrentContext(context);
  });
}
