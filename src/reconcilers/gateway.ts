// Gateway: validated like every mesh kind (port and host claims against other Gateways on the same workload) and,
// when it carries `deployment`, run by Weft: its ServiceAccount, Deployment, Service, PodDisruptionBudget and
// HorizontalPodAutoscaler are generated (src/gateway), kept as generated, and reported on in its status
// (Programmed, ResolvedRefs, addresses, per-server conditions).
import { resources, type Gateway } from '../api/index.js';
import { ApiError, controller, isControlledBy, type EventRecorder, type KubeObject, type Reconciler } from '../controllers/index.js';
import type { GatewayChartOptions } from '../gateway/chart.js';
import { credentialKeys, credentialProblems } from '../gateway/credentials.js';
import { generatedInformers, tlsSecretInformer, type GeneratedInformers } from '../gateway/informers.js';
import { generatedName } from '../gateway/names.js';
import { GatewayRenderer } from '../gateway/renderer.js';
import { GENERATED_KINDS } from '../gateway/resources.js';
import { GATEWAY_CONDITION_TYPES, gatewayAddresses, gatewayConditions, serverStatuses, type Deployment, type Service, type ServingState } from '../gateway/status.js';
import { syncGeneratedObjects, type SyncResult } from '../gateway/sync.js';
import type { Verdict } from '../mesh/verdict.js';
import { lastAcceptedField, refs, withDeclaredWatches, withFieldsApplied, type MeshControllerDeps } from './mesh-controller.js';

/** Gateway -> `namespace/name` of each TLS Secret its servers name. */
const CREDENTIAL_INDEX = 'credential';

export interface GatewayControllerOptions {
  /**
   * The xDS server's word on whether a Gateway's config is served (and ACKed); `accepted` is the Gateway's verdict.
   * Without an xDS server, Programmed rests on the Deployment alone and says so.
   */
  serving?: (gw: Gateway, accepted: boolean) => ServingState | undefined;
  chart?: GatewayChartOptions;
}

export function registerGatewayController(deps: MeshControllerDeps, events: EventRecorder, options: GatewayControllerOptions = {}): void {
  const gateways = deps.state.informers.gateways;
  const generated = generatedInformers(deps.manager);
  const secrets = tlsSecretInformer(deps.manager);
  gateways.addIndex(CREDENTIAL_INDEX, credentialKeys);
  const client = deps.manager.client;
  const renderer = new GatewayRenderer(options.chart);

  /** Writes everything the status says, from the caches and what this reconcile did. */
  const writeStatus = (gw: Gateway, verdict: Verdict, done: { blocked: SyncResult['blocked']; applyError?: string }, signal: AbortSignal) => {
    const service = ownedBy<Service>(generated, 'Service', gw);
    const missingCredentials = credentialProblems(gw, (ns, secret) => secrets.get(ns, secret) !== undefined);
    const serving = options.serving?.(gw, verdict.accepted);
    const conditions = gatewayConditions(gw, verdict, {
      deployment: ownedBy<Deployment>(generated, 'Deployment', gw),
      service,
      ...done,
      serving,
      credentialProblems: missingCredentials,
    });
    const addresses = gatewayAddresses(service);
    return deps.status.write(resources.Gateway, gw, verdict, signal, withFieldsApplied(gw, verdict.accepted, {
      conditions,
      conditionTypes: [...GATEWAY_CONDITION_TYPES],
      fields: {
        addresses: addresses.length > 0 ? addresses : null,
        servers: serverStatuses(gw, verdict, conditions.find((c) => c.type === 'Programmed'), missingCredentials, gw.status?.servers),
        proxies: serving?.proxies ?? null,
        synced: serving?.proxies ? `${serving.proxies.acked}/${serving.proxies.expected}` : null,
        lastAccepted: lastAcceptedField(gw, deps.state),
      },
    }));
  };

  const reconciler: Reconciler = {
    async reconcile({ namespace, name }, { signal }) {
      const gw = gateways.get(namespace, name);
      if (!gw || gw.metadata.deletionTimestamp) {
        renderer.forget(namespace, name);
        return; // the garbage collector removes what it owned
      }
      const verdict = deps.state.verdict(gw);
      // Bad input never breaks serving: a Gateway that is not accepted keeps what was generated from its last good spec.
      if (!verdict.accepted) return writeStatus(gw, verdict, { blocked: [] }, signal);
      // A new spec is judged at once; applying it and rolling out take longer, and the next reconcile reports them.
      if (gw.spec.deployment && gw.status?.observedGeneration !== gw.metadata.generation) await writeStatus(gw, verdict, { blocked: [] }, signal);
      let result: SyncResult;
      try {
        result = await syncGeneratedObjects(gw, gw.spec.deployment ? await renderer.render(gw) : [], { client, informers: generated, signal });
      } catch (err) {
        if (namespaceTerminating(err)) return; // the Gateway goes with its namespace: nothing to re-create
        // Say why in the status, then retry with backoff.
        await writeStatus(gw, verdict, { blocked: [], applyError: err instanceof Error ? err.message : String(err) }, signal);
        throw err;
      }
      recordSync(events, gw, result);
      await writeStatus(gw, verdict, { blocked: result.blocked }, signal);
    },
  };

  // Port and host claims, generated workloads' selectors: declared in src/mesh/dependencies.ts.
  let builder = withDeclaredWatches(controller(deps.manager, 'gateway').for(gateways).withMaxConcurrentReconciles(8), 'Gateway', deps.state)
    .watches(secrets, (secret) => refs(gateways.byIndex(CREDENTIAL_INDEX, `${secret.metadata?.namespace}/${secret.metadata?.name}`)));
  // What the xDS server says about serving it (a push, an ACK, a NACK) changes Programmed.
  if (deps.programmed) builder = builder.watches(deps.programmed.changes('Gateway'), (c) => [c.metadata]);
  // A generated object deleted or edited wakes its Gateway, which re-creates or restores it.
  for (const kind of GENERATED_KINDS) builder = builder.owns(generated[kind]);
  builder.complete(reconciler);
}

/** The cached generated object of `kind`, if it is this Gateway's (not a same-named leftover or stranger). */
function ownedBy<T extends KubeObject>(generated: GeneratedInformers, kind: 'Deployment' | 'Service', gw: Gateway): T | undefined {
  const obj = generated[kind].get(gw.metadata.namespace!, generatedName(gw));
  return obj && isControlledBy(obj, gw) ? (obj as T) : undefined;
}

/** Events that say what Weft did to the generated objects, for `kubectl describe gateway`. */
function recordSync(events: EventRecorder, gw: Gateway, result: SyncResult): void {
  const list = (refs: Array<{ kind: string; name: string }>) => refs.map((r) => `${r.kind} ${r.name}`).join(', ');
  if (result.created.length) events.normal(gw, 'Created', 'Apply', `created ${list(result.created)}`);
  if (result.updated.length) events.normal(gw, 'Updated', 'Apply', `updated ${list(result.updated)} to the current spec`);
  if (result.reverted.length) events.normal(gw, 'Reverted', 'Apply', `${list(result.reverted)} changed outside Weft: restored the fields Weft owns`);
  if (result.deleted.length) events.normal(gw, 'Deleted', 'Apply', `deleted ${list(result.deleted)}: no longer in the spec`);
}

/** The API server refuses new objects in a namespace being deleted (403, NamespaceTerminating). */
function namespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403 && err.message.includes('because it is being terminated');
}
