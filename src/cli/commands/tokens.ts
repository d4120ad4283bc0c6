import { Command } from 'commander';
import { z } from 'zod';
import { bodyOf, type Schemas } from '../api-client.ts';
import { contextOf, parseFlags } from '../context.ts';
import { CliError } from '../errors.ts';
import { dash, formatTable, print } from '../output.ts';

const SCOPE_NAMES = ['read', 'check', 'admin'] as const;

const createFlags = z.object({
  name: z.string().trim().min(1).max(255),
  scope: z.array(z.enum(SCOPE_NAMES)).min(1),
  expiresInDays: z.coerce.number().int().min(1).max(3650).optional(),
  database: z.boolean().optional(),
});

const tokenRows = (tokens: Schemas['Token'][]) =>
  formatTable(
    ['NAME', 'ID', 'SCOPES', 'PREFIX', 'CREATED', 'EXPIRES', 'REVOKED', 'LAST USED'],
    tokens.map((t) => [t.name, t.id, t.scopes.join(','), t.prefix, t.created_at, dash(t.expires_at), dash(t.revoked_at), dash(t.last_used_at)]),
  );

export function tokensCommand(): Command {
  const tokens = new Command('tokens').description('API tokens: list, create (shown once), revoke');
  tokens.command('list').description('every token (never the secret)').action(async (_opts, cmd: Command) => {
    const ctx = contextOf(cmd);
    print(ctx.output, bodyOf('list tokens', await ctx.client.GET('/api/tokens')).tokens, tokenRows);
  });
  tokens
    .command('create')
    .description('create a token; it is printed once. --database writes it straight into the database (bootstrap, before any token exists)')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--scope <scope...>', 'read, check and/or admin')
    .option('--expires-in-days <n>', 'expiry in days (default: until revoked)')
    .option('--database', 'no API: use DATABASE_URL (or the embedded database of VIGIL_DATA_DIR) directly')
    .action(async (opts, cmd: Command) => {
      const f = parseFlags(createFlags, opts);
      if (f.database) {
        // Loaded only here: the API commands never touch the server's modules.
        const [{ runTokenCommand }, { loadConfig }] = await Promise.all([import('../token-command.ts'), import('../../config/config.ts')]);
        const args = ['create', '--name', f.name, ...f.scope.flatMap((s) => ['--scope', s]), ...(f.expiresInDays ? ['--expires-in-days', String(f.expiresInDays)] : [])];
        process.stdout.write(`${await runTokenCommand(args, loadConfig(process.env))}\n`);
        return;
      }
      const ctx = contextOf(cmd);
      const body = { name: f.name, scopes: f.scope, ...(f.expiresInDays ? { expires_in_days: f.expiresInDays } : {}) };
      const created = bodyOf('create token', await ctx.client.POST('/api/tokens', { body }));
      print(ctx.output, created, (t) => `Created token "${t.name}" with scope ${t.scopes.join(', ')}${t.expires_at ? ` (expires ${t.expires_at})` : ''}. It is shown only now:\n${t.token}`);
    });
  tokens
    .command('revoke')
    .description('revoke a token by id or name')
    .argument('<token>', 'token id or name')
    .action(async (ref: string, _opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const all = bodyOf('list tokens', await ctx.client.GET('/api/tokens')).tokens.filter((t) => t.revoked_at === null);
      const matches = all.filter((t) => t.id === ref || t.name === ref);
      if (matches.length === 0) throw new CliError(`no active token with id or name ${JSON.stringify(ref)}`);
      if (matches.length > 1) throw new CliError(`${matches.length} tokens are named ${JSON.stringify(ref)}: give the id (vigil tokens list)`);
      const token = matches[0]!;
      const answer = await ctx.client.DELETE('/api/tokens/{token_id}', { params: { path: { token_id: token.id } } });
      if (!answer.response.ok) bodyOf('revoke token', { ...answer, data: undefined });
      print(ctx.output, { revoked: token.id, name: token.name }, (r) => `revoked ${r.name} (${r.revoked})`);
    });
  return tokens;
}
