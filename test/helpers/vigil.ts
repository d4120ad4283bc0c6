import request, { type Response } from 'supertest';
import { afterAll, afterEach, beforeAll } from 'vitest';
import Transport from 'winston-transport';
import winston from 'winston';
import { loadConfig, type Config } from '../../src/config/config.ts';
import type { Logger } from '../../src/lib/logger.ts';
import { startVigil, type Role, type Vigil } from '../../src/runtime.ts';
import { started, useTestDatabase, type TestDatabaseContext } from './db.ts';
import { expectConforms } from './openapi.ts';

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

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface CallOptions {
  /** Extra request headers, e.g. `If-None-Match`. */
  headers?: Record<string, string>;
  /** The bearer token to send (default: the admin token); `null` sends none. */
  token?: string | null;
}

export interface TestVigil extends Vigil {
  config: Config;
  transport: MemoryTransport;
  /** A supertest agent on the API that sends the admin token (or `token`) with every request. */
  http(token?: string): ReturnType<typeof request.agent>;
  /**
   * Sends one API request and fails unless the answer conforms to openapi.yaml (status documented,
   * body matching its schema), before the test looks at it.
   */
  call(method: HttpMethod, path: string, body?: unknown, options?: CallOptions): Promise<Response>;
  /** The body text of every answer `call` got, for asserting that no secret ever appears in one. */
  answers: string[];
}

/** Starts Vigil in-process on a test database, API on a free loopback port. */
export async function startTestVigil(databaseUrl: string, roles: readonly Role[], env: Record<string, string> = {}): Promise<TestVigil> {
  // A worker-only Vigil in the test process must not lower the test runner's priority (spawned ones do).
  const config = loadConfig({ DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', VIGIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN, VIGIL_WORKER_NICE: '0', ...env });
  const { logger, transport } = memoryLogger();
  const vigil = await startVigil(config, roles, logger);
  const http = (token = TEST_ADMIN_TOKEN) => request.agent(vigil.apiUrl!).set(authHeader(token));
  const answers: string[] = [];
  const call = async (method: HttpMethod, path: string, body?: unknown, options: CallOptions = {}) => {
    const token = options.token === undefined ? TEST_ADMIN_TOKEN : options.token;
    const req = request(vigil.apiUrl!)[method](path).set({ ...(token === null ? {} : authHeader(token)), ...options.headers });
    const res = body === undefined ? await req : await req.send(body as object);
    answers.push(res.text);
    expectConforms(res);
    return res;
  };
  return { ...vigil, config, transport, http, call, answers };
}

type Env = Record<string, string>;

export interface UseTestVigilOptions {
  /** Roles of the Vigil started in beforeAll; without them none is, and tests start their own with `start`. */
  roles?: readonly Role[];
  /** Environment of every Vigil started here; a function when it needs what an earlier hook made (a target's port). */
  env?: Env | (() => Env);
  /** Connections of the test's own pool (`pool`). */
  poolSize?: number;
  /** SQL run after each test, once the Vigils the test started are stopped, so the next one starts clean. */
  resetSql?: string;
}

/** What useTestVigil hands a test file; read it inside tests and hooks, once beforeAll has run. */
export interface TestVigilContext extends TestDatabaseContext {
  /** The Vigil started in beforeAll (options.roles). */
  readonly vigil: TestVigil;
  /** `vigil.call`: one API request, checked against openapi.yaml. */
  call: TestVigil['call'];
  /** Starts another Vigil on the same database (env merged over options.env); it is stopped after the test, if the test did not. */
  start(roles: readonly Role[], env?: Env): Promise<TestVigil>;
}

/**
 * "Vigil on a fresh database" for a test file (or describe block): registers the hooks that copy
 * the template database, start Vigil with `roles`, and stop and drop both afterwards. Hooks the
 * file registers before this call run before it starts (start a target whose port `env` needs
 * there) and their afterAll runs after Vigil has stopped.
 */
export function useTestVigil(options: UseTestVigilOptions = {}): TestVigilContext {
  const database = useTestDatabase({ poolSize: options.poolSize });
  const envOf = () => (typeof options.env === 'function' ? options.env() : (options.env ?? {}));
  let vigil: TestVigil | undefined;
  const running: TestVigil[] = [];
  beforeAll(async () => {
    if (options.roles) vigil = await startTestVigil(database.db.url, options.roles, envOf());
  });
  afterEach(async () => {
    for (const v of running.splice(0)) await v.stop();
    if (options.resetSql) await database.pool.query(options.resetSql);
  });
  afterAll(async () => {
    await vigil?.stop();
  });
  const current = () => started(vigil, 'the test Vigil (useTestVigil roles)');
  return {
    get db() {
      return database.db;
    },
    get pool() {
      return database.pool;
    },
    get vigil() {
      return current();
    },
    call: (...args) => current().call(...args),
    start: async (roles, env = {}) => {
      const v = await startTestVigil(database.db.url, roles, { ...envOf(), ...env });
      // A test may stop it itself (to see what stopping does); the afterEach then has nothing left to do.
      let stopping: Promise<void> | undefined;
      const once = { ...v, stop: () => (stopping ??= v.stop()) };
      running.push(once);
      return once;
    },
  };
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
