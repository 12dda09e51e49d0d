// Weft's generic controller framework: informers, work queues, controllers, a manager with leader election,
// and helpers for status, events, finalizers, owner references and apply. It knows nothing about the mesh.
export { Manager, type ManagerOptions, type LeaderElectionOptions } from './manager.js';
export { loadClusterAccess, type ClusterAccess, type HttpRequest, type HttpResponse, type LoadOptions } from './cluster-access.js';
export { defaultLogger } from './logger.js';
export {
  controller,
  Controller,
  ControllerBuilder,
  requestForObject,
  requestForOwner,
  type ControllerHost,
  type MapFunc,
  type UpdatePredicate,
  type ReconcileContext,
  type Reconciler,
  type ReconcileResult,
  type Request,
  type Runnable,
  type Source,
} from './controller.js';
export { Informer, type InformerHandler, type InformerOptions, type InformerSpec } from './informer.js';
export { relistDiff, Store, type CacheEvent, type IndexFunc } from './cache.js';
export { WorkQueue, type QueueMetrics, type WorkQueueOptions } from './workqueue.js';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from './rate-limiter.js';
export {
  KubeLeaseStore,
  LeaderElector,
  type LeaderCallbacks,
  type LeaderElectionConfig,
  type LeaderElectorOptions,
  type LeaseSpec,
  type LeaseStore,
  type StoredLease,
} from './leader-election.js';
export { Metrics, type ControllerMetrics, type ReconcileOutcome } from './metrics.js';
export { startHttpServer, type HttpServerOptions, type RunningHttpServer } from './http-server.js';
export {
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
  type Condition,
  type ConditionStatus,
  type ConditionUpdate,
  type SetConditionResult,
} from './conditions.js';
export { EventRecorder, type EventInfo, type EventRecorderOptions, type EventType } from './events.js';
export { addFinalizer, hasFinalizer, removeFinalizer } from './finalizers.js';
export { controllerRef, getControllerOf, isControlledBy } from './owner-refs.js';
export { apply, applyStatus, patchStatus, type ApplyOptions, type PatchStatusOptions } from './apply.js';
export { apiVersionOf, groupOf, resourcePath, resources, type ResourceType } from './resource.js';
export {
  ApiError,
  contentTypes,
  isConflict,
  isGone,
  isNotFound,
  RestClient,
  type HttpMethod,
  type Query,
  type RequestOptions,
  type Status,
} from './rest-client.js';
export {
  keyOf,
  LAST_APPLIED_ANNOTATION,
  microTime,
  objectKey,
  parseKey,
  rfc3339,
  withoutBookkeeping,
  type Json,
  type KubeObject,
  type ObjectMeta,
  type ObjectRef,
  type OwnerReference,
} from './object.js';
