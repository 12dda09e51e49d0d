import { afterEach, describe, expect, it } from '@jest/globals';
import { startHttpServer, type RunningHttpServer } from './http-server.js';
import { Metrics } from './metrics.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('metrics over HTTP', () => {
  it('serves controller-runtime and workqueue metrics, process metrics, and health probes', async () => {
    const metrics = new Metrics();
    let ready = false;
    server = await startHttpServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, ready: () => ready });
    expect(server.port).toBeGreaterThan(0);

    const queue = new WorkQueue({ metrics: metrics.queue('gateway'), rateLimiter: new ExponentialFailureRateLimiter(60_000) }); // retries stay pending
    const controllerMetrics = metrics.controller('gateway', 4);
    queue.add('ns/a');
    queue.add('ns/b');
    queue.done((await queue.get())!); // one finished item: work duration
    queue.add('ns/a');
    const key = (await queue.get())!; // 'ns/b' is taken and stays in flight: unfinished work
    queue.addRateLimited('ns/c');
    controllerMetrics.reconciled('success', 0.02);
    metrics.setLeader('weft-operator', true);

    const base = `http://127.0.0.1:${server.port}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'controller_runtime_max_concurrent_reconciles',
      'controller_runtime_active_workers',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds_bucket',
      'workqueue_work_duration_seconds_bucket',
      'workqueue_retries_total',
      'workqueue_unfinished_work_seconds',
      'workqueue_longest_running_processor_seconds',
      'leader_election_master_status',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text.split('\n').filter((line) => line.startsWith(name))).not.toEqual([]);
    }
    expect(text).toContain('controller_runtime_reconcile_total{controller="gateway",result="success"} 1');
    expect(text).toContain('controller_runtime_max_concurrent_reconciles{controller="gateway"} 4');
    expect(text).toContain('workqueue_adds_total{name="gateway"} 3');
    expect(text).toContain('workqueue_depth{name="gateway"} 1');
    expect(text).toContain('workqueue_retries_total{name="gateway"} 1');
    expect(text).toContain('leader_election_master_status{name="weft-operator"} 1');
    expect(text).toMatch(/workqueue_longest_running_processor_seconds\{name="gateway"\} [0-9.e-]+/);
    queue.done(key);
    queue.shutDown();

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('tells when every work queue is empty, counting keys in process', () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const a = metrics.queue('a');
    metrics.queue('b');
    expect(metrics.queuesIdle()).toBe(true);
    a.add('ns/x');
    expect(metrics.queuesIdle()).toBe(false);
    a.get('ns/x');
    expect(metrics.queuesIdle()).toBe(false); // taken, still being reconciled
    a.done('ns/x');
    expect(metrics.queuesIdle()).toBe(true);
  });

  it('keeps registries separate per Metrics instance', async () => {
    const a = new Metrics({ defaultMetrics: false });
    const b = new Metrics({ defaultMetrics: false });
    a.controller('only-in-a', 1);
    expect(await a.registry.metrics()).toContain('only-in-a');
    expect(await b.registry.metrics()).not.toContain('only-in-a');
  });
});
