#!/usr/bin/env node
import { loadConfig } from './config/config.ts';
import { coerceError, ConfigError } from './lib/errors.ts';
import { createLogger } from './lib/logger.ts';
import { ROLES, startVigil, type Role } from './runtime.ts';
import { runTokenCommand } from './cli/token-command.ts';
import { runRekeyCommand } from './credentials/rekey.ts';

const USAGE = `usage: vigil [start | api | scheduler | worker ...]
       vigil token create --name NAME --scope read|check|admin [--expires-in-days N]

  start       all roles in one process (the default)
  api         the HTTP API
  scheduler   the producer that enqueues due checks
  worker      runs checks
  token       create an API token (printed once)
  rekey       re-seal every secret under VIGIL_SECRET_KEY (old key in VIGIL_SECRET_KEY_PREVIOUS)
Roles can be combined: vigil api scheduler. Configuration comes from the environment (see README).`;

function parseRoles(args: string[]): Role[] {
  if (args.length === 0 || (args.length === 1 && args[0] === 'start')) return [...ROLES];
  const unknown = args.filter((a) => !(ROLES as readonly string[]).includes(a));
  if (unknown.length > 0) throw new ConfigError(`unknown command ${unknown.map((u) => JSON.stringify(u)).join(', ')}\n${USAGE}`);
  return args as Role[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') {
    console.log(USAGE);
    return;
  }
  if (args[0] === 'rekey') {
    console.log(await runRekeyCommand(loadConfig(process.env)));
    return;
  }
  if (args[0] === 'token') {
    console.log(await runTokenCommand(args.slice(1), loadConfig(process.env)));
    return;
  }
  const roles = parseRoles(args);
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, { service: 'vigil', pid: process.pid });
  const vigil = await startVigil(config, roles, logger);
  if (vigil.apiUrl) printWelcome(vigil.apiUrl, vigil.bootstrapToken);
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
}

function printWelcome(url: string, bootstrapToken: string | undefined): void {
  const body = JSON.stringify({ name: 'example', address: 'example.com', probes: [{ type: 'http', url: 'https://example.com/' }] });
  console.log(`\nVigil API listening on ${url}  (docs: ${url}/docs)`);
  if (bootstrapToken) {
    console.log(`\nAn admin API token was created for this data directory. It is shown only now; keep it:\n  ${bootstrapToken}`);
  }
  const auth = `-H "Authorization: Bearer ${bootstrapToken ?? '$VIGIL_TOKEN'}"`;
  console.log(`Add a host:\n  curl -s -X POST ${url}/api/hosts ${auth} -H 'content-type: application/json' -d '${body}'\n`);
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('vigil failed to start:', coerceError(err).message || coerceError(err).name);
  process.exit(1);
});
