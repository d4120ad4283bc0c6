import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ConfigError } from '../../src/lib/errors.ts';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.states).toEqual({
      HEALTHY: { intervalSeconds: 1800, priority: 3 },
      DEGRADED: { intervalSeconds: 300, priority: 6 },
      CRITICAL: { intervalSeconds: 120, priority: 9 },
      DOWN: { intervalSeconds: 1800, priority: 4 },
      UNREACHABLE: { intervalSeconds: 900, priority: 2 },
    });
    expect(c.jitPriority).toBe(9);
    // Workers yield the CPU to the API, which runs JIT checks itself (docs/operations.md).
    expect(c.worker.nice).toBe(10);
    expect(c.apiLimits.jitSlots).toBe(8);
    expect(loadConfig({ VIGIL_WORKER_NICE: '0', VIGIL_API_JIT_SLOTS: '0' })).toMatchObject({ worker: { nice: 0 }, apiLimits: { jitSlots: 0 } });
    // V8's heap may grow 25 % past the live data (src/lib/heap-growth.ts); 0 leaves V8's sizing.
    expect(c.heapGrowthPercent).toBe(25);
    expect(loadConfig({ VIGIL_HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent).toBe(0);
    expect(c.producer).toMatchObject({ intervalMs: 1000, batchSize: 500 });
    expect(c.worker).toMatchObject({ concurrency: 200, checkTimeoutMs: 10_000 });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });

  it.each([
    ['PORT', 'eighty', /PORT/],
    ['PORT', '70000', /PORT/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL: must be a postgres/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['VIGIL_WORKER_CONCURRENCY', '0', /VIGIL_WORKER_CONCURRENCY/],
    ['VIGIL_HEALTHY_INTERVAL_SECONDS', '-1', /VIGIL_HEALTHY_INTERVAL_SECONDS/],
    ['VIGIL_LISTEN_NOTIFY', 'maybe', /VIGIL_LISTEN_NOTIFY/],
    ['VIGIL_WEBHOOK_ALLOW_NETWORKS', '10.0.0.0/33', /VIGIL_WEBHOOK_ALLOW_NETWORKS: "10.0.0.0\/33" has a prefix outside 0-32/],
    ['VIGIL_WEBHOOK_ALLOW_NETWORKS', 'intranet', /VIGIL_WEBHOOK_ALLOW_NETWORKS: "intranet" is not a network/],
    ['VIGIL_EVENT_RETENTION_DAYS', '-1', /VIGIL_EVENT_RETENTION_DAYS/],
    ['VIGIL_PUBLIC_URL', 'vigil.example.com', /VIGIL_PUBLIC_URL: must be an http:\/\/ or https:\/\/ URL/],
    ['VIGIL_PUBLIC_URL', 'ftp://vigil.example.com', /VIGIL_PUBLIC_URL/],
    ['VIGIL_PUBLIC_URL', 'https://ops:pw@vigil.example.com', /VIGIL_PUBLIC_URL: must not contain credentials/],
    ['VIGIL_NOTIFY_CONCURRENCY', '0', /VIGIL_NOTIFY_CONCURRENCY/],
    ['VIGIL_REMOTE_WRITE_URL', 'http://vm:Zsecret-pw@tsdb:8428/api/v1/write', /VIGIL_REMOTE_WRITE_URL: must not contain credentials.*VIGIL_REMOTE_WRITE_PASSWORD/],
    ['VIGIL_NOTIFY_DIGEST_SECONDS', '0', /VIGIL_NOTIFY_DIGEST_SECONDS/],
    ['VIGIL_WORKER_NICE', '20', /VIGIL_WORKER_NICE/],
    ['VIGIL_WORKER_NICE', '-5', /VIGIL_WORKER_NICE/],
    ['VIGIL_API_JIT_SLOTS', '201', /VIGIL_API_JIT_SLOTS/],
    ['VIGIL_HEAP_GROWTH_PERCENT', '401', /VIGIL_HEAP_GROWTH_PERCENT/],
    ['VIGIL_HEAP_GROWTH_PERCENT', '1.5', /VIGIL_HEAP_GROWTH_PERCENT/],
    ['VIGIL_API_JIT_SLOTS', 'some', /VIGIL_API_JIT_SLOTS/],
    ['VIGIL_CRITICAL_AFTER_FAILURES', '9', /VIGIL_DEGRADED_AFTER_FAILURES <= VIGIL_CRITICAL_AFTER_FAILURES <= VIGIL_DOWN_AFTER_FAILURES/],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('never repeats a refused remote-write password', () => {
    expect(() => loadConfig({ VIGIL_REMOTE_WRITE_URL: 'https://vm:Zsecret-pw@tsdb.example/api/v1/write' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('Zsecret') }),
    );
  });

  it.each([
    [{ VIGIL_LEASE_SECONDS: '5' }, /VIGIL_LEASE_SECONDS \(5\) must be at least twice VIGIL_CHECK_TIMEOUT_MS \(10000 ms\), i\.e\. at least 20/],
    [{ VIGIL_LEASE_SECONDS: '3', VIGIL_CHECK_TIMEOUT_MS: '2000' }, /at least 4/],
  ])('rejects a lease that a check could outlive: %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it.each([
    ['0.0.0.0', {}, /HOST is 0\.0\.0\.0, beyond loopback, and VIGIL_METRICS_TOKEN is not set.*VIGIL_METRICS_OPEN=true/],
    ['10.1.2.3', {}, /HOST is 10\.1\.2\.3/],
    ['::', {}, /HOST is ::/],
  ])('refuses HOST=%s with an open /metrics', (host, extra, message) => {
    expect(() => loadConfig({ HOST: host, ...extra })).toThrow(message);
  });

  it.each([
    [{ HOST: '127.0.0.1' }],
    [{ HOST: '::1' }],
    [{ HOST: 'localhost' }],
    [{ HOST: '0.0.0.0', VIGIL_METRICS_TOKEN: 'metrics-token-0123456789' }],
    [{ HOST: '0.0.0.0', VIGIL_METRICS_OPEN: 'true' }],
  ])('accepts a /metrics that is loopback-only, token-protected or opened on purpose: %o', (env) => {
    expect(loadConfig(env).host).toBe(env.HOST);
  });

  it('accepts named webhook networks and keeps the retentions in milliseconds', () => {
    const c = loadConfig({ VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8, fd00::/8', VIGIL_EVENT_RETENTION_DAYS: '0.5' });
    expect(c.webhooks.allowNetworks).toEqual(['127.0.0.0/8', 'fd00::/8']);
    expect(c.retention).toEqual({
      eventsMs: 12 * 3_600_000, deliveriesMs: 14 * 86_400_000, notificationDeliveriesMs: 14 * 86_400_000, tombstonesMs: 30 * 86_400_000, resolvedIncidentsMs: 90 * 86_400_000,
    });
  });

  it.each([
    [{}, 'http://127.0.0.1:8080'],
    [{ HOST: '::1', PORT: '9000' }, 'http://[::1]:9000'],
    [{ VIGIL_PUBLIC_URL: 'https://vigil.example.com/' }, 'https://vigil.example.com'],
    [{ VIGIL_PUBLIC_URL: 'https://example.com/vigil' }, 'https://example.com/vigil'],
  ])('links notifications to the dashboard at VIGIL_PUBLIC_URL: %o', (env, url) => {
    expect(loadConfig(env).notifications.publicUrl).toBe(url);
  });

  it('accepts a lease of twice the check timeout', () => {
    expect(loadConfig({ VIGIL_LEASE_SECONDS: '4', VIGIL_CHECK_TIMEOUT_MS: '2000' }).producer.leaseSeconds).toBe(4);
  });
});
