// The mesh model: a pure function of the Accepted resources, kept up to date per host. See types.ts.
export { buildService, refOf, scopedRoute } from './build.js';
export { memoryInputs, routedHosts, type ModelInputs } from './inputs.js';
export { MeshModelStore, type ModelChange } from './store.js';
export { refKey, sourcesOf, type EndpointModel, type MeshModel, type MeshRef, type PolicyModel, type RoutingModel, type ServiceModel } from './types.js';
export { SERVICE_NAME_LABEL, serviceHost, serviceOfSlice, type EndpointSlice, type KubernetesService } from './kubernetes.js';
export { servicePortProtocol } from './protocol.js';
