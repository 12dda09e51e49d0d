// The leader's CA controller: creates the CA, imports a plug-in CA, rotates intermediates and roots (rotation.ts
// says when), and writes the Secret weft-system/weft-ca. One key; level-triggered: every reconcile plans from
// what the cache holds now, applies at most one step, and the write's own watch event brings the next one.
import { controller, resourcePath, resources, type EventRecorder, type Informer, type KubeObject, type Manager, type Reconciler, type Source } from '../controllers/index.js';
import type { CaConfig } from './config.js';
import { PluggedCaError, readPluggedCa, type PluggedCa } from './plugged.js';
import { planCa, type CaStep } from './rotation.js';
import { CA_SECRET_NAME, CaStateError, decodeState, digestOf, encodeState, PLUGGED_SECRET_NAME, type CaState } from './state.js';
import type { Secret } from './store.js';
import { applyStep } from './transitions.js';
import { delayUntil } from './renewal.js';

export interface CaControllerOptions {
  namespace: string;
  config: CaConfig;
  events: EventRecorder;
  now?: () => number;
}

const STEP_EVENTS: Record<CaStep, { reason: string; note: string }> = {
  bootstrap: { reason: 'RootCreated', note: 'created a self-signed root and an intermediate' },
  'import-plugged': { reason: 'PluggedCAImported', note: 'now signing with the CA from Secret cacerts' },
  'activate-next-root': { reason: 'RootActivated', note: 'the new root now signs; the previous root stays trusted until its certificates expire' },
  'retire-previous-roots': { reason: 'RootRetired', note: 'a previous root left the trust bundle' },
  'prepare-next-root': { reason: 'RootRotationStarted', note: 'a new root joined the trust bundle; it signs once every workload has had time to learn it' },
  'renew-intermediate': { reason: 'IntermediateRenewed', note: 'issued a new intermediate under the current root' },
};

export function registerCaController(manager: Manager, secrets: Informer<Secret>, options: CaControllerOptions): void {
  const { namespace } = options;
  const now = options.now ?? Date.now;
  const key = { namespace, name: CA_SECRET_NAME };
  let lastPluggedProblem: string | undefined;

  const reconciler: Reconciler = {
    async reconcile(_request, { signal, log }) {
      const current = secrets.get(namespace, CA_SECRET_NAME);
      const pluggedSecret = secrets.get(namespace, PLUGGED_SECRET_NAME);
      let state: CaState | undefined;
      try {
        state = current ? decodeState(current.data) : undefined;
      } catch (err) {
        if (!(err instanceof CaStateError)) throw err;
        // Never replace a broken CA silently: a new root would break every connection. A person decides.
        options.events.warning(current!, 'InvalidCASecret', 'Load', `${err.message}. Fix it, or delete the Secret to start over with a new root.`);
        throw err;
      }

      let plugged: PluggedCa | undefined;
      if (pluggedSecret) {
        try {
          plugged = readPluggedCa(pluggedSecret.data, now());
          lastPluggedProblem = undefined;
        } catch (err) {
          if (!(err instanceof PluggedCaError)) throw err;
          if (err.message !== lastPluggedProblem) {
            options.events.warning(pluggedSecret, 'InvalidPluggedCA', 'Import', `${err.message}; keeping the current CA`);
            log.warn({ problem: err.message }, 'cacerts is invalid; keeping the current CA');
          }
          lastPluggedProblem = err.message;
        }
      }
      const pluggedDigest = plugged ? digestOf(pluggedSecret!.data) : undefined;

      const t = now();
      const plan = planCa({ state, pluggedDigest }, options.config, t);
      if (!plan.step) return plan.checkAt ? { requeueAfterMs: Math.max(1, delayUntil(plan.checkAt, t)) } : undefined;

      const next = await applyStep(plan.step, state, plugged, options.config, t);
      if (plan.step === 'import-plugged') next.pluggedDigest = pluggedDigest;
      if (signal.aborted) return;
      const written = await writeSecret(manager, current, next, namespace, t, signal);
      log.info({ step: plan.step, reason: plan.reason }, 'CA updated');
      const event = STEP_EVENTS[plan.step];
      options.events.normal(written, event.reason, 'Rotate', `${event.note} (${plan.reason})`);
      // The write's watch event reconciles again; this is a fallback if that event is slow.
      return { requeueAfterMs: 1000 };
    },
  };

  controller(manager, 'ca')
    .for(onlyNamed(secrets, CA_SECRET_NAME))
    .watches(secrets, (s) => (s.metadata?.name === PLUGGED_SECRET_NAME ? [key] : []))
    .watches(startupKick(key), () => [key])
    .complete(reconciler);
}

/** Creates or updates the Secret; an update carries the resourceVersion read, so a stale leader cannot overwrite. */
async function writeSecret(manager: Manager, current: Secret | undefined, state: CaState, namespace: string, now: number, signal: AbortSignal): Promise<Secret> {
  const body: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: CA_SECRET_NAME,
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'weft', 'app.kubernetes.io/component': 'ca' },
      ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
    },
    data: encodeState(state, now),
  };
  if (!current) return manager.client.json<Secret>('POST', resourcePath(resources.secrets, { namespace }), { body, signal });
  return manager.client.json<Secret>('PUT', resourcePath(resources.secrets, { namespace, name: CA_SECRET_NAME }), { body, signal });
}

/** The informer's events for one object only. */
function onlyNamed(informer: Informer<Secret>, name: string): Source<Secret> {
  return {
    resource: informer.resource,
    waitForSync: (signal) => informer.waitForSync(signal),
    on: (handler) =>
      informer.on({
        onAdd: (o) => o.metadata?.name === name && handler.onAdd?.(o),
        onUpdate: (old, o) => o.metadata?.name === name && handler.onUpdate?.(old, o),
        onDelete: (o) => o.metadata?.name === name && handler.onDelete?.(o),
      }),
  };
}

/** One event when the controller starts, so a CA that does not exist yet gets created (nothing else would ask). */
function startupKick(ref: { namespace: string; name: string }): Source<KubeObject> {
  return {
    resource: resources.secrets,
    waitForSync: async () => true,
    on: (handler) => {
      handler.onAdd?.({ metadata: { namespace: ref.namespace, name: ref.name } });
      return () => {};
    },
  };
}
