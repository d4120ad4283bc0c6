import request from 'supertest';
import Transport from 'winston-transport';
import winston from 'winston';
import { loadConfig, type Config } from '../../src/config/config.ts';
import type { Logger } from '../../src/lib/logger.ts';
import { startVigil, type Role, type Vigil } from '../../src/runtime.ts';

/** Collects every log entry a test Vigil writes, for assertions on logs. */
export class MemoryTransport extends Transport {
  readonly entries: Record<string, unknown>[] = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.entries.push(info);
    next();
  }
}

export function memoryLogger(): { logger: Logger; transport: MemoryTransport } {
  const transport = new MemoryTransport();
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  return { logger, transport };
}

/** Intervals of a fraction of a second, so state walks take a few seconds. */
export const FAST_ENV: Record<string, string> = {
  VIGIL_HEALTHY_INTERVAL_SECONDS: '0.3',
  VIGIL_DEGRADED_INTERVAL_SECONDS: '0.3',
  VIGIL_CRITICAL_INTERVAL_SECONDS: '0.3',
  VIGIL_DOWN_INTERVAL_SECONDS: '0.3',
  VIGIL_PRODUCER_INTERVAL_MS: '50',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_WORKER_POLL_SECONDS: '0.5',
  VIGIL_CHECK_TIMEOUT_MS: '2000',
  VIGIL_SHUTDOWN_GRACE_MS: '5000',
};

/** The admin token every test Vigil accepts (VIGIL_ADMIN_TOKEN). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';
export const authHeader = (token = TEST_ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

export interface TestVigil extends Vigil {
  config: Config;
  transport: MemoryTransport;
  /** A supertest agent on the API that sends the admin token (or `token`) with every request. */
  http(token?: string): ReturnType<typeof request.agent>;
}

/** Starts Vigil in-process on a test database, API on a free loopback port. */
export async function startTestVigil(databaseUrl: string, roles: readonly Role[], env: Record<string, string> = {}): Promise<TestVigil> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', VIGIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...env });
  const { logger, transport } = memoryLogger();
  const vigil = await startVigil(config, roles, logger);
  const http = (token = TEST_ADMIN_TOKEN) => request.agent(vigil.apiUrl!).set(authHeader(token));
  return { ...vigil, config, transport, http };
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
