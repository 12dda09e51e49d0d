// Reads the kubeconfig the way @kubernetes/client-node's KubeConfig.loadFromDefault does (dist/config.js and
// config_types.js, v2.0.1) and decides whether Weft can apply its credentials itself: static TLS material and
// bearer tokens, yes; anything else is handed to client-node (see cluster-access.ts).
//
// client-node's order: KUBECONFIG (several paths joined by the path delimiter: the first file, then each next one
// merged into it, a later file's current-context winning and a repeated cluster, user or context name an error),
// else ~/.kube/config, else the in-cluster ServiceAccount. Relative file names are resolved against the folder of
// the kubeconfig that names them (token-file too, as kubectl does; client-node reads it from the working folder).
import { accessSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ReadOptions {
  /** --kubeconfig: this file alone, instead of the default places. */
  kubeconfigPath?: string;
  /** --context: this context instead of current-context. */
  context?: string;
  /** For tests: the environment (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT) and the ServiceAccount folder. */
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
}

export interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Only ever false (insecure-skip-tls-verify); absent, Node decides (NODE_TLS_REJECT_UNAUTHORIZED). */
  rejectUnauthorized?: false;
  servername?: string;
}

/** A bearer token: as written, or read from a file that is re-read when it changes (projected tokens rotate). */
export type TokenSource = { value: string } | { file: string };

export interface StaticSettings {
  kind: 'static';
  server: string;
  namespace: string | undefined;
  tls: TlsSettings;
  token?: TokenSource;
  /** The user's `as`: sent as Impersonate-User. */
  impersonateUser?: string;
}

/** Credentials Weft does not apply itself: client-node loads the same kubeconfig and applies them. */
export interface ClientNodeSettings {
  kind: 'client-node';
  server: string;
  namespace: string | undefined;
  /** Why, for tests and logs: e.g. `user key exec`. */
  reason: string;
}

export type ClusterSettings = StaticSettings | ClientNodeSettings;

type Entry = Record<string, unknown>;

interface Cluster {
  name: string;
  server: string;
  fields: Entry;
}
interface User {
  name: string;
  fields: Entry;
}
interface Context {
  name: string;
  cluster: string;
  user: string | undefined;
  namespace: string | undefined;
}
interface Kubeconfig {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string | undefined;
}

// Keys Weft applies itself; `extensions` holds tool metadata that no client acts on.
const STATIC_CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);
const STATIC_USER_KEYS = new Set(['token', 'token-file', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'as', 'extensions']);

export function readClusterSettings(options: ReadOptions = {}): ClusterSettings {
  const env = options.env ?? process.env;
  const files = kubeconfigFiles(options, env);
  if (files.length === 0) {
    if (options.context) throw new Error(`no kubeconfig to find context ${options.context} in`);
    return inCluster(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  }
  const config = files.map(readKubeconfig).reduce(merge);
  const contextName = options.context ?? config.currentContext;
  const context = config.contexts.find((c) => c.name === contextName);
  if (!context) throw new Error(contextName ? `the kubeconfig has no context ${contextName}` : 'the kubeconfig has no current-context');
  const cluster = config.clusters.find((c) => c.name === context.cluster);
  if (!cluster) throw new Error(`the kubeconfig has no cluster ${context.cluster} (context ${context.name})`);
  const user = config.users.find((u) => u.name === context.user);
  const base = { server: cluster.server, namespace: context.namespace };
  const reason = clientNodeReason(cluster, user);
  if (reason) return { kind: 'client-node', ...base, reason };
  const c = cluster.fields;
  const u = user?.fields ?? {};
  const tls: TlsSettings = {};
  const ca = material(c['certificate-authority'], c['certificate-authority-data']);
  if (ca) tls.ca = ca;
  const cert = material(u['client-certificate'], u['client-certificate-data']);
  if (cert) tls.cert = cert;
  const key = material(u['client-key'], u['client-key-data']);
  if (key) tls.key = key;
  if (c['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof c['tls-server-name'] === 'string' && c['tls-server-name']) tls.servername = c['tls-server-name'];
  const settings: StaticSettings = { kind: 'static', ...base, tls };
  // client-node: a token written in the kubeconfig wins over token-file.
  if (typeof u.token === 'string' && u.token) settings.token = { value: u.token };
  else if (typeof u['token-file'] === 'string' && u['token-file']) settings.token = { file: u['token-file'] };
  if (typeof u.as === 'string' && u.as) settings.impersonateUser = u.as;
  return settings;
}

/** The kubeconfig files to read, in client-node's order; none: try in-cluster. */
function kubeconfigFiles(options: ReadOptions, env: NodeJS.ProcessEnv): string[] {
  if (options.kubeconfigPath) return [options.kubeconfigPath];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter((f) => f);
  const home = env.HOME;
  if (home && exists(home) && exists(join(home, '.kube', 'config'))) return [join(home, '.kube', 'config')];
  return [];
}

function inCluster(env: NodeJS.ProcessEnv, dir: string): ClusterSettings {
  const tokenFile = join(dir, 'token');
  if (!exists(tokenFile)) throw new Error(`no kubeconfig found (KUBECONFIG, ~/.kube/config) and not in a cluster (no ${tokenFile})`);
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('in a cluster, but KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespaceFile = join(dir, 'namespace');
  const namespace = exists(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() || undefined : undefined;
  // client-node refuses plain HTTP without insecure-skip-tls-verify, which in-cluster never sets: let it say so.
  if (scheme === 'http') return { kind: 'client-node', server, namespace, reason: 'in-cluster over plain HTTP' };
  return { kind: 'static', server, namespace, tls: { ca: readFileSync(join(dir, 'ca.crt')) }, token: { file: tokenFile } };
}

function clientNodeReason(cluster: Cluster, user: User | undefined): string | undefined {
  const clusterKey = presentKeys(cluster.fields).find((k) => !STATIC_CLUSTER_KEYS.has(k));
  if (clusterKey) return `cluster key ${clusterKey}`;
  const userKey = presentKeys(user?.fields ?? {}).find((k) => !STATIC_USER_KEYS.has(k));
  if (userKey) return `user key ${userKey}`;
  if (cluster.server.startsWith('http:') && cluster.fields['insecure-skip-tls-verify'] !== true) return 'plain HTTP without insecure-skip-tls-verify';
  return undefined;
}

const presentKeys = (fields: Entry): string[] => Object.keys(fields).filter((k) => fields[k] !== undefined && fields[k] !== null);

/** client-node's bufferFromFileOrString: the file wins over the inline base64. */
function material(file: unknown, data: unknown): Buffer | undefined {
  if (typeof file === 'string' && file) return readFileSync(file);
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  return undefined;
}

function readKubeconfig(file: string): Kubeconfig {
  const doc: unknown = parse(readFileSync(file, 'utf8')); // YAML 1.2, so JSON too
  if (!isEntry(doc)) throw new Error(`kubeconfig ${file}: not a mapping`);
  const folder = dirname(file);
  const absolute = (fields: Entry, keys: string[]): Entry => {
    const out = { ...fields };
    for (const key of keys) if (typeof out[key] === 'string' && out[key]) out[key] = isAbsolute(out[key]) ? out[key] : join(folder, out[key]);
    return out;
  };
  // The same checks, in the same words, as client-node's config_types.js.
  const clusters = entries(doc.clusters).map((e, i): Cluster => {
    if (!e.name) throw new Error(`clusters[${i}].name is missing`);
    if (!isEntry(e.cluster)) throw new Error(`clusters[${i}].cluster is missing`);
    if (!e.cluster.server) throw new Error(`clusters[${i}].cluster.server is missing`);
    return { name: String(e.name), server: String(e.cluster.server).replace(/\/+$/, ''), fields: absolute(e.cluster, ['certificate-authority']) };
  });
  const users = entries(doc.users).map((e, i): User => {
    if (!e.name) throw new Error(`users[${i}].name is missing`);
    return { name: String(e.name), fields: absolute(isEntry(e.user) ? e.user : {}, ['client-certificate', 'client-key', 'token-file']) };
  });
  const contexts = entries(doc.contexts).map((e, i): Context => {
    if (!e.name) throw new Error(`contexts[${i}].name is missing`);
    if (!isEntry(e.context)) throw new Error(`contexts[${i}].context is missing`);
    if (!e.context.cluster) throw new Error(`contexts[${i}].context.cluster is missing`);
    const { cluster, user, namespace } = e.context;
    return { name: String(e.name), cluster: String(cluster), user: user ? String(user) : undefined, namespace: namespace ? String(namespace) : undefined };
  });
  const current = doc['current-context'];
  return { clusters, users, contexts, currentContext: typeof current === 'string' && current ? current : undefined };
}

/** client-node's mergeConfig: a later file's current-context wins; a name seen before is an error. */
function merge(into: Kubeconfig, next: Kubeconfig): Kubeconfig {
  const add = <T extends { name: string }>(what: string, list: T[], more: T[]): T[] => {
    for (const item of more) if (list.some((i) => i.name === item.name)) throw new Error(`Duplicate ${what}: ${item.name}`);
    return [...list, ...more];
  };
  return {
    clusters: add('cluster', into.clusters, next.clusters),
    users: add('user', into.users, next.users),
    contexts: add('context', into.contexts, next.contexts),
    currentContext: next.currentContext ?? into.currentContext,
  };
}

const isEntry = (v: unknown): v is Entry => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): Entry[] => (Array.isArray(v) ? v.filter(isEntry) : []);

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}
