// glibc's malloc_trim(0) for the operator, as a Node-API addon (controllers/malloc-trim.ts loads it). glibc gives
// freed memory back to the system only from the top of each arena; what a burst freed below live allocations stays
// resident, and in the arenas of V8's worker threads it stays for good: 14-23 MiB at rest at 1000 services
// (docs/benchmarks.md, Memory). malloc_trim returns every whole free page of every arena. Node has no way to call it.
#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>

// mallocTrim(): true if memory was given back, false if there was none to give.
static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) != 0, &result);
  return result;
}
#endif

// Without glibc (musl, for one) the addon exports nothing, and the operator goes without.
NAPI_MODULE_INIT() {
#if defined(__GLIBC__)
  napi_value trim;
  if (napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, Trim, NULL, &trim) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "mallocTrim", trim) != napi_ok) return NULL;
#endif
  return exports;
}
