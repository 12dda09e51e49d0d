// The kinds Weft generates for a Gateway, and how one generated object travels: its kind and its body.
import type { KubeObject, ResourceType } from '../controllers/index.js';

export const generatedResources = {
  ServiceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  Service: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  PodDisruptionBudget: { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true },
  HorizontalPodAutoscaler: { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true },
} as const satisfies Record<string, ResourceType>;

export type GeneratedKind = keyof typeof generatedResources;
/** In apply order: the ServiceAccount before the pods that run as it. */
export const GENERATED_KINDS = Object.keys(generatedResources) as GeneratedKind[];

export interface GeneratedObject {
  kind: GeneratedKind;
  /** The full object as it is applied: apiVersion, kind, metadata (name, namespace, labels, owner) and spec. */
  object: KubeObject & { metadata: { name: string; namespace: string } };
}
