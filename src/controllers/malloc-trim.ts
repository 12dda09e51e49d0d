// glibc's malloc_trim, through the operator's one native addon (malloc-trim.c, built by hack/build-native.sh into
// dist/native/). Optional: without the addon (no C compiler at build time) or without glibc the operator runs as
// before, with the memory its allocator kept.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Gives every whole free page of every malloc arena back to the system; true if any was. */
export type MallocTrim = () => boolean;

/**
 * The addon's mallocTrim, or undefined when it cannot be loaded. `path` defaults to dist/native/malloc-trim.node as
 * seen from the running module: dist/chunks/*.js (the bundle) and dist/controllers/*.js (tsc) both sit one level
 * below dist/.
 */
export function loadMallocTrim(path: string | URL = new URL('../native/malloc-trim.node', import.meta.url)): MallocTrim | undefined {
  try {
    const addon = createRequire(import.meta.url)(path instanceof URL ? fileURLToPath(path) : path) as { mallocTrim?: MallocTrim };
    return typeof addon.mallocTrim === 'function' ? addon.mallocTrim : undefined; // none without glibc
  } catch {
    return undefined;
  }
}
