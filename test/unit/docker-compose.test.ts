import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';

// No Docker engine here: check the file's structure and that each service's env is valid config.
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true });
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

describe('docker-compose.yml', () => {
  it('has postgres, vigil (api + scheduler) and a scalable worker service', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'vigil', 'worker']);
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

  it('builds an image that runs src/main.ts on Node 22 with the migrations included', () => {
    expect(compose.services.vigil.build).toBe('.');
    expect(dockerfile).toMatch(/^FROM node:22/m);
    expect(dockerfile).toMatch(/COPY db \.\/db/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "src\/main.ts"\]/);
  });
});
