// Raw HTTP to the API server with the kubeconfig's credentials. Objects stay plain JSON: nothing is decoded
// into client-node's model classes, so a cached object looks the same whether it came from a list or a watch.
import type { ClusterAccess, HttpResponse } from './cluster-access.js';

/** metav1.Status, the body of every API error. */
export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static fromStatus(status: Status): ApiError {
    return new ApiError(status.code ?? 500, status.reason ?? '', status.message ?? `HTTP ${status.code}`);
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiError && err.status === 404;
/** 409: AlreadyExists on create, or a stale resourceVersion on update/patch (optimistic concurrency). */
export const isConflict = (err: unknown): boolean => err instanceof ApiError && err.status === 409;
/** 410: the resourceVersion (or continue token) is older than what etcd keeps; relist. */
export const isGone = (err: unknown): boolean => err instanceof ApiError && err.status === 410;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON (which is also valid YAML for apply patches). */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export const contentTypes = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
  applyPatch: 'application/apply-patch+yaml',
} as const;

export class RestClient {
  constructor(readonly access: ClusterAccess) {}

  /**
   * Sends a request; resolves with the response on 2xx, its body unread (read it to the end, or abort the request:
   * an unread body holds its connection), and rejects with ApiError otherwise.
   */
  async request(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const url = new URL(this.access.server + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: contentTypes.json };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? contentTypes.json;
    const response = await this.access.send({
      method,
      url,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status < 200 || response.status > 299) throw await errorFrom(response);
    return response;
  }

  async json<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    return JSON.parse(await response.text()) as T;
  }

  /** A request whose answer is not needed beyond success: the body is read and dropped, freeing the connection. */
  async send(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<void> {
    await (await this.request(method, path, options)).text();
  }

  /** Closes pooled connections; the client can still be used afterwards. */
  async close(): Promise<void> {
    await this.access.close();
  }
}

async function errorFrom(response: HttpResponse): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const status = JSON.parse(text) as Status;
    if (status.kind === 'Status') return ApiError.fromStatus({ ...status, code: status.code ?? response.status });
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, response.statusText, text.slice(0, 500) || `HTTP ${response.status}`);
}
