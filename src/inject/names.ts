// The names sidecar injection is known by: labels and annotations users set, the webhook's configuration and port.
// A leaf module (no imports), so the install chart can name them without loading the injector.

/** Namespaces opt in with this label (value `enabled`). */
export const INJECT_NAMESPACE_LABEL = 'weft.dev/inject';
/** A Pod opts out with this label or annotation set to "false". */
export const INJECT_POD_KEY = 'sidecar.weft.dev/inject';
/** Istio's opt-out, honoured too: a Pod ported from Istio that asked for no sidecar gets none. */
export const ISTIO_INJECT_POD_KEY = 'sidecar.istio.io/inject';
/** Which template: `sidecar` (the default) or `grpc`. */
export const TEMPLATE_ANNOTATION = 'sidecar.weft.dev/template';
/** Istio's template annotation, read when Weft's is absent: its proxyless templates are Weft's `grpc`. */
export const ISTIO_TEMPLATES_ANNOTATION = 'inject.istio.io/templates';
const ISTIO_TEMPLATES: Readonly<Record<string, Template>> = { sidecar: 'sidecar', 'grpc-agent': 'grpc', 'grpc-simple': 'grpc' };

interface PodMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The opt-out key a Pod sets to "false" (label or annotation), Weft's or Istio's; undefined when it opts in. */
export function optOutKey(meta: PodMetadata | undefined): string | undefined {
  return [INJECT_POD_KEY, ISTIO_INJECT_POD_KEY].find((key) => meta?.labels?.[key] === 'false' || meta?.annotations?.[key] === 'false');
}

/**
 * The template a Pod asks for and the annotation it asks with: Weft's, else Istio's (a comma-separated list, as
 * Istio reads it; `grpc-agent` and `grpc-simple` are proxyless). `template` is undefined for a name Weft does not
 * know; the whole result is undefined when no annotation asks.
 */
export function askedTemplate(meta: PodMetadata | undefined): { annotation: string; value: string; template: Template | undefined } | undefined {
  const own = meta?.annotations?.[TEMPLATE_ANNOTATION];
  if (own !== undefined) return { annotation: TEMPLATE_ANNOTATION, value: own, template: (TEMPLATES as readonly string[]).includes(own) ? (own as Template) : undefined };
  const istio = meta?.annotations?.[ISTIO_TEMPLATES_ANNOTATION];
  if (istio === undefined) return undefined;
  const names = istio.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const known = names.map((n) => ISTIO_TEMPLATES[n]);
  const template = known.every((t) => t !== undefined) && known.length > 0 ? (known.includes('grpc') ? 'grpc' : 'sidecar') : undefined;
  return { annotation: ISTIO_TEMPLATES_ANNOTATION, value: istio, template };
}
/** What injection added, as JSON: it also tells that a Pod is injected already. */
export const STATUS_ANNOTATION = 'sidecar.weft.dev/status';

export const TEMPLATES = ['sidecar', 'grpc'] as const;
export type Template = (typeof TEMPLATES)[number];

/** Namespaces never injected, whatever the webhook configuration selects: the mesh's own and the cluster's. */
export const NEVER_INJECTED = ['kube-system', 'kube-public', 'kube-node-lease', 'weft-system'];

/** The MutatingWebhookConfiguration manifests/ installs (its caBundle is the operator's to keep). */
export const WEBHOOK_CONFIGURATION = 'weft-sidecar-injector';
export const INJECT_PATH = '/inject';
/** Istio's injector port. */
export const WEBHOOK_PORT = 15017;
