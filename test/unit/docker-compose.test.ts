import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';

// No Docker engine here: check the file's structure and that each service's env is valid config,
// after the `${VAR:-default}` interpolation compose does (here with VIGIL_SECRET_KEY set).
const HOST_ENV: Record<string, string> = { VIGIL_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'), VIGIL_METRICS_TOKEN: 'metrics-token-0123456789' };
const composeText = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
const interpolate = (text: string, env: Record<string, string>) =>
  text.replace(/\$\{(\w+):-([^}]*)\}/g, (_m, name: string, fallback: string) => env[name] ?? fallback);
const compose = parse(interpolate(composeText, HOST_ENV), { merge: true });
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

describe('docker-compose.yml', () => {
  it('has postgres, vigil (api + scheduler) and a scalable worker service', () => {
    // Services of an optional profile (monitoring: Prometheus, Grafana) start only when asked for.
    const always = Object.entries(compose.services as Record<string, { profiles?: string[] }>).filter(([, s]) => !s.profiles);
    expect(always.map(([name]) => name).sort()).toEqual(['postgres', 'vigil', 'worker']);
    expect(compose.services.vigil.command).toEqual(['api', 'scheduler']);
    expect(compose.services.worker.command).toEqual(['worker']);
    // A service that publishes a fixed host port or names its container cannot be scaled.
    expect(compose.services.worker.ports).toBeUndefined();
    expect(compose.services.worker.container_name).toBeUndefined();
  });

  it('starts Vigil only once PostgreSQL is healthy', () => {
    expect(compose.services.postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    for (const s of ['vigil', 'worker']) expect(compose.services[s].depends_on.postgres.condition).toBe('service_healthy');
  });

  it('gives every Vigil service a valid configuration pointing at the postgres service', () => {
    const pg = compose.services.postgres.environment;
    for (const s of ['vigil', 'worker']) {
      const env = compose.services[s].environment;
      const config = loadConfig(env);
      const url = new URL(config.databaseUrl!);
      expect(url.hostname).toBe('postgres');
      expect([url.username, url.password, url.pathname]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
    }
    const api = loadConfig(compose.services.vigil.environment);
    expect(api.host).toBe('0.0.0.0');
    expect(compose.services.vigil.ports).toContain(`${api.port}:${api.port}`);
  });

  it('passes the same credentials key to every Vigil process, and runs without one when unset', () => {
    for (const s of ['vigil', 'worker']) expect(loadConfig(compose.services[s].environment).secretKey?.toString('base64')).toBe(HOST_ENV.VIGIL_SECRET_KEY);
    const unset = parse(interpolate(composeText, { VIGIL_METRICS_TOKEN: HOST_ENV.VIGIL_METRICS_TOKEN! }), { merge: true });
    expect(loadConfig(unset.services.worker.environment).secretKey).toBeUndefined();
  });

  it('refuses to start the API or a worker on all interfaces with an open /metrics, unless opted out', () => {
    const unset = parse(interpolate(composeText, { VIGIL_SECRET_KEY: HOST_ENV.VIGIL_SECRET_KEY! }), { merge: true });
    for (const s of ['vigil', 'worker']) expect(() => loadConfig(unset.services[s].environment)).toThrow(/HOST is 0\.0\.0\.0.*VIGIL_METRICS_TOKEN is not set/);
    const open = parse(interpolate(composeText, { VIGIL_METRICS_OPEN: 'true' }), { merge: true });
    expect(loadConfig(open.services.vigil.environment).metricsToken).toBeUndefined();
    expect(loadConfig(compose.services.vigil.environment).metricsToken).toBe(HOST_ENV.VIGIL_METRICS_TOKEN);
  });

  it('builds an image that runs src/main.ts on Node 22 with the migrations included', () => {
    expect(compose.services.vigil.build).toBe('.');
    expect(dockerfile).toMatch(/^FROM node:22/m);
    expect(dockerfile).toMatch(/COPY db \.\/db/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "src\/main.ts"\]/);
  });
});
