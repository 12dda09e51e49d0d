// The mesh state layer: informers, indexes, lookups, verdicts and last accepted generations, shared by the
// reconcilers and the xDS pipeline (see mesh-state.ts).
export { MeshState } from './mesh-state.js';
export { Index, informersByKind, meshInformers, relevantUpdate, specChanged, type EndpointSlice, type MeshInformers, type Service, type ServiceAccount } from './informers.js';
export { informerLookup } from './lookup.js';
export { informerInputs, watchGatewayChanges, watchModelChanges } from './inputs.js';
export type { ProgrammedChange, ProgrammedSource, ServedGeneration, StatusDetails, StatusTarget } from './programmed.js';
