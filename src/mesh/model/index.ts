// The mesh model: a pure function of the served resources, kept up to date per host. See types.ts.
export { appliesToMesh, buildService, refOf, scopedRoute } from './build.js';
export { conflictOf, type Conflict } from './conflicts.js';
export { memoryInputs, routedHosts, type ModelInputs } from './inputs.js';
export { MeshModelStore, type ModelChange } from './store.js';
export { refKey, routingSources, sourcesOf, type EndpointModel, type MeshModel, type MeshRef, type PolicyModel, type RoutingModel, type ServiceModel, type ServicePortModel } from './types.js';
export { SERVICE_NAME_LABEL, serviceHost, serviceOfSlice, stripNode, stripPod, type EndpointSlice, type KubernetesService, type NodeMeta, type PodMeta } from './kubernetes.js';
export { servicePortProtocol } from './protocol.js';
