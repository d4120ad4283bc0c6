import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createToken } from '../auth/token-service.ts';
import { SCOPES } from '../auth/tokens.ts';
import type { Config } from '../config/config.ts';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { migrate } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { ConfigError } from '../lib/errors.ts';

export const TOKEN_USAGE = `usage: vigil token create --name NAME --scope read|check|admin [--scope …] [--expires-in-days N]`;

const argsSchema = z.object({
  name: z.string().trim().min(1).max(255),
  scope: z.array(z.enum(SCOPES)).min(1),
  'expires-in-days': z.coerce.number().int().min(1).max(3650).optional(),
});

/** `vigil token create …`: prints a new token once. Returns the text to print. */
export async function runTokenCommand(args: string[], config: Config): Promise<string> {
  if (args[0] !== 'create') throw new ConfigError(TOKEN_USAGE);
  const { values } = parseArgs({
    args: args.slice(1),
    options: { name: { type: 'string' }, scope: { type: 'string', multiple: true }, 'expires-in-days': { type: 'string' } },
    strict: true,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    throw new ConfigError(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')}\n${TOKEN_USAGE}`);
  }
  const { url, stop } = await openDatabase(config);
  const pool = createPool(url, 2);
  try {
    await migrate(pool);
    const { row, token } = await createToken(pool, { name: parsed.data.name, scopes: parsed.data.scope, expiresInDays: parsed.data['expires-in-days'] });
    const expires = row.expires_at ? ` (expires ${row.expires_at.toISOString()})` : '';
    return `Created token "${row.name}" with scope ${row.scopes.join(', ')}${expires}. It is shown only now:\n${token}`;
  } finally {
    await pool.end();
    await stop();
  }
}

async function openDatabase(config: Config): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => {} };
  if (existsSync(path.join(config.dataDir, 'pg', 'postmaster.pid'))) {
    throw new ConfigError(
      `Vigil's embedded database under ${config.dataDir} is in use by a running Vigil: create the token with ` +
        'POST /api/tokens (using the admin token it printed at first start), or stop Vigil and run this again.',
    );
  }
  const db = await startEmbeddedPostgres(config.dataDir);
  return { url: db.url, stop: () => db.stop() };
}
