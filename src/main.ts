#!/usr/bin/env node
import { coerceError, ConfigError } from './lib/errors.ts';
import type { Logger } from './lib/logger.ts';
import type { Role } from './runtime.ts';
import { SERVER_COMMANDS } from './cli/server-commands.ts';
import { limitHeapGrowth } from './lib/heap-growth.ts';
import type { WorkerChildMessage } from './worker-child.ts';

const USAGE = `usage: vigil [start | api | scheduler | worker ...]
       vigil token create --name NAME --scope read|check|admin [--expires-in-days N]
       vigil hosts|state|history|export|groups|tokens|maintenance|check|apply|export-inventory ...  (vigil --help)

  start       all roles: the API and scheduler in this process, the worker in a child process (the default)
  api         the HTTP API (and the web dashboard)
  scheduler   the producer that enqueues due checks
  worker      runs checks
  token       create an API token (printed once)
  rekey       re-seal every secret under VIGIL_SECRET_KEY (old key in VIGIL_SECRET_KEY_PREVIOUS)
Roles can be combined: vigil api scheduler. Configuration comes from the environment (see docs/configuration.md).`;

function parseRoles(args: string[], roles: readonly Role[]): Role[] {
  if (args.length === 0 || (args.length === 1 && args[0] === 'start')) return [...roles];
  const unknown = args.filter((a) => !(roles as readonly string[]).includes(a));
  if (unknown.length > 0) throw new ConfigError(`unknown command ${unknown.map((u) => JSON.stringify(u)).join(', ')}\n${USAGE}`);
  return args as Role[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'token') {
    const [{ runTokenCommand }, { loadConfig }] = await Promise.all([import('./cli/token-command.ts'), import('./config/config.ts')]);
    console.log(await runTokenCommand(args.slice(1), loadConfig(process.env)));
    return;
  }
  if (args[0] === 'rekey') {
    const [{ runRekeyCommand }, { loadConfig }] = await Promise.all([import('./credentials/rekey.ts'), import('./config/config.ts')]);
    console.log(await runRekeyCommand(loadConfig(process.env)));
    return;
  }
  // Anything but a server role is a command of the `vigil` command line (src/cli): the server's
  // modules are not even loaded for those.
  if (args.length > 0 && !(SERVER_COMMANDS as readonly string[]).includes(args[0]!)) {
    const { runCli } = await import('./cli/program.ts');
    process.exitCode = await runCli(args);
    return;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const [{ loadConfig }, { createLogger }, { ROLES, startAllInOne, startVigil }] = await Promise.all([
    import('./config/config.ts'),
    import('./lib/logger.ts'),
    import('./runtime.ts'),
  ]);
  const roles = parseRoles(args, ROLES);
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, { service: 'vigil', pid: process.pid });
  // Only in Vigil's own processes (tests run roles inside the test runner, which keeps V8's sizing).
  if (limitHeapGrowth(config.heapGrowthPercent)) logger.info('V8 heap growth limited', { percent: config.heapGrowthPercent });
  const dashboard = roles.includes('api') ? await buildDashboard(logger) : false;
  // `start` runs the worker role in a child process (src/worker-child.ts); naming the roles runs them in this one.
  const allInOne = args.length === 0 || (args.length === 1 && args[0] === 'start');
  const vigil = allInOne ? await startAllInOne(config, logger) : await startVigil(config, roles, logger);
  if (vigil.apiUrl) printWelcome(vigil.apiUrl, vigil.bootstrapToken, dashboard);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    vigil.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error('shutdown failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (process.send) {
    // The worker child of `vigil start` (src/worker-child.ts): it answers for its metrics, and
    // stops when its parent is gone rather than check on, unsupervised.
    process.on('message', (m: WorkerChildMessage) => {
      if (m.type !== 'metrics') return;
      void vigil.metrics.registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: 'metrics-reply', id: m.id, metrics } satisfies WorkerChildMessage),
        () => process.send?.({ type: 'metrics-reply', id: m.id, metrics: [] } satisfies WorkerChildMessage),
      );
    });
    process.on('disconnect', () => shutdown('the parent process exited'));
  }
}

function printWelcome(url: string, bootstrapToken: string | undefined, dashboard: boolean): void {
  const body = JSON.stringify({ name: 'example', address: 'example.com', probes: [{ type: 'http', url: 'https://example.com/' }] });
  console.log(`\nVigil API listening on ${url}  (docs: ${url}/docs)`);
  if (dashboard) console.log(`Dashboard: ${url}/  (sign in with an API token)`);
  if (bootstrapToken) {
    console.log(`\nAn admin API token was created for this data directory. It is shown only now; keep it:\n  ${bootstrapToken}`);
  }
  const auth = `-H "Authorization: Bearer ${bootstrapToken ?? '$VIGIL_TOKEN'}"`;
  console.log(`Add a host:\n  curl -s -X POST ${url}/api/hosts ${auth} -H 'content-type: application/json' -d '${body}'\n`);
}

/** Builds the web dashboard when missing or stale; the API runs without it if that fails. Returns whether it is there. */
async function buildDashboard(logger: Logger): Promise<boolean> {
  const { dashboardBuilt, ensureDashboardBuilt } = await import('./api/dashboard.ts');
  try {
    await ensureDashboardBuilt((message) => logger.info(message));
  } catch (err) {
    logger.warn('the dashboard could not be built; the API runs without it', { err: err instanceof Error ? err.message : String(err) });
  }
  return dashboardBuilt();
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('vigil failed to start:', coerceError(err).message || coerceError(err).name);
  process.exit(1);
});
