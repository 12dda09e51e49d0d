// Owner references: how generated objects point at the object they were made for, so the garbage collector
// deletes them with it and controllers can map a child's events back to its owner.
import type { KubeObject, OwnerReference } from './object.js';

/**
 * A controller reference to `owner`: controller=true (at most one per object) and blockOwnerDeletion=true
 * (foreground deletion of the owner waits for this object). The owner must come from the API server (uid).
 */
export function controllerRef(owner: KubeObject): OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind || !name || !uid) {
    throw new Error(`controllerRef: owner needs apiVersion, kind, metadata.name and metadata.uid (got ${kind ?? '?'}/${name ?? '?'})`);
  }
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** The reference with controller=true, if any. */
export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** True if `owner` (matched by uid) is the controller of `obj`. */
export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata?.uid;
  return uid !== undefined && getControllerOf(obj)?.uid === uid;
}
