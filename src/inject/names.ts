// The names sidecar injection is known by: labels and annotations users set, the webhook's configuration and port.
// A leaf module (no imports), so the install chart can name them without loading the injector.

/** Namespaces opt in with this label (value `enabled`). */
export const INJECT_NAMESPACE_LABEL = 'weft.dev/inject';
/** A Pod opts out with this label or annotation set to "false". */
export const INJECT_POD_KEY = 'sidecar.weft.dev/inject';
/** Which template: `sidecar` (the default) or `grpc`. */
export const TEMPLATE_ANNOTATION = 'sidecar.weft.dev/template';
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
