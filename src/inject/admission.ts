// The injection webhook's decision for one AdmissionReview (admission.k8s.io/v1): which Pods are injected, with what
// template, and the JSON patch. Bad input (an unknown template) is refused naming the annotation, never half
// injected; a Pod that opts out, is injected already or cannot be captured is admitted as it is, with a warning
// where the user asked for something that will not happen. Pure.
import { askedTemplate, ISTIO_TEMPLATES_ANNOTATION, NEVER_INJECTED, optOutKey, STATUS_ANNOTATION, TEMPLATES } from './names.js';
import { inject, type InjectionOptions, type Pod } from './template.js';

export interface AdmissionRequest {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  operation?: string;
  namespace?: string;
  object?: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** Why a Pod is left as it is (undefined: inject it). */
function skipReason(pod: Pod, namespace: string): string | undefined {
  if (NEVER_INJECTED.includes(namespace)) return `namespace ${namespace} is never injected`;
  const optOut = optOutKey(pod.metadata);
  if (optOut) return `${optOut} is "false"`;
  if (pod.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined) return 'injected already';
  if (pod.spec?.hostNetwork) return 'hostNetwork Pods are never injected (capture would take over the node\'s traffic)';
  return undefined;
}

export function review(request: AdmissionRequest, options: InjectionOptions): AdmissionResponse {
  const allowed = (warnings: string[] = []): AdmissionResponse => ({ uid: request.uid, allowed: true, ...(warnings.length > 0 ? { warnings } : {}) });
  if (request.kind?.kind !== 'Pod' || request.operation !== 'CREATE' || !request.object) return allowed();
  const pod = request.object as Pod;
  const namespace = request.namespace ?? pod.metadata?.namespace ?? '';
  const asked = askedTemplate(pod.metadata);
  if (asked && !asked.template) {
    const known = asked.annotation === ISTIO_TEMPLATES_ANNOTATION ? 'sidecar, grpc-agent or grpc-simple' : TEMPLATES.join(' or ');
    return {
      uid: request.uid,
      allowed: false,
      status: { code: 400, message: `metadata.annotations[${asked.annotation}]: unknown template "${asked.value}"; use ${known}` },
    };
  }
  const skip = skipReason(pod, namespace);
  if (skip) {
    // Asked for a template but will not get one: say so, rather than leave the user guessing.
    return allowed(asked && skip !== 'injected already' ? [`${asked.annotation} is ignored: ${skip}`] : []);
  }
  const { pod: injected } = inject(pod, asked?.template ?? 'sidecar', options);
  // Whole members replaced ("add" replaces an existing one): the user's entries are kept as they were, in order.
  const patch = [
    { op: 'add', path: '/metadata/annotations', value: injected.metadata!.annotations },
    { op: 'add', path: '/spec/containers', value: injected.spec!.containers },
    { op: 'add', path: '/spec/volumes', value: injected.spec!.volumes },
    ...(injected.spec!.initContainers ? [{ op: 'add', path: '/spec/initContainers', value: injected.spec!.initContainers }] : []),
  ];
  return { uid: request.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
}
