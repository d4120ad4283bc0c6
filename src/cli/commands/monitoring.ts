import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { bodyOf, problemError, type Schemas } from '../api-client.ts';
import { contextOf, parseFlags } from '../context.ts';
import { resolveHost } from '../host-ref.ts';
import { dash, formatFields, formatTable, ms, paintState, print } from '../output.ts';
import { parseSince } from './shared.ts';

type CheckResult = Schemas['CheckResult'];

function checkRows(checks: CheckResult[]): string {
  return formatTable(
    ['TIME', 'BY', 'STATE', 'RESULT', 'RESPONSE', 'ERROR'],
    checks.map((c) => [c.check_time, c.checked_by, paintState(c.state), c.success ? 'ok' : 'failed', ms(c.response_time_ms), dash(c.error_type && `${c.error_type}: ${c.error_message ?? ''}`)]),
  );
}

function stateText(s: Schemas['HostMonitoringState']): string {
  const head = formatFields([
    ['host', `${s.hostname} (${s.host_id})`], ['state', paintState(s.current_state)], ['since', dash(s.last_state_change)],
    ['last check', dash(s.last_check)], ['response', ms(s.response_time_ms)], ['failures', String(s.consecutive_failures)],
    ['next check', s.next_check_time], ['interval', s.check_interval_info.description], ['maintenance', String(s.maintenance)],
  ]);
  return s.recent_history.length ? `${head}\n\n${checkRows(s.recent_history)}` : head;
}

const historyFlags = z.object({
  since: z.string().optional().transform((v, ctx) => (v === undefined ? undefined : parseSince(v, ctx))),
  limit: z.coerce.number().int().min(1).max(1_000_000).default(100),
});

const exportFlags = z.object({
  format: z.enum(['csv', 'ndjson', 'json']),
  since: z.string().optional().transform((v, ctx) => (v === undefined ? undefined : parseSince(v, ctx))),
  host: z.string().optional(),
});

export function monitoringCommands(): Command[] {
  const state = new Command('state')
    .description("a host's state, last result and its last 10 checks")
    .argument('<host>', 'host name or id')
    .action(async (ref: string, _opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const host = await resolveHost(ctx.client, ref);
      const s = bodyOf('read state', await ctx.client.GET('/api/monitoring/hosts/{host_id}/state', { params: { path: { host_id: host.id } } }));
      print(ctx.output, s, stateText);
    });

  const history = new Command('history')
    .description("a host's checks, newest first")
    .argument('<host>', 'host name or id')
    .option('--since <when>', 'only checks since then: an ISO 8601 time or an age like 30m, 2h, 7d')
    .option('--limit <n>', 'at most this many checks', '100')
    .action(async (ref: string, opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const f = parseFlags(historyFlags, opts);
      const host = await resolveHost(ctx.client, ref);
      const checks: Schemas['HistoryEntry'][] = [];
      let cursor: string | undefined;
      do {
        const query = { limit: Math.min(1000, f.limit - checks.length), ...(f.since ? { from: f.since } : {}), ...(cursor ? { cursor } : {}) };
        const page = bodyOf('read history', await ctx.client.GET('/api/monitoring/hosts/{host_id}/history', { params: { path: { host_id: host.id }, query } }));
        checks.push(...page.checks);
        cursor = page.next_cursor ?? undefined;
      } while (cursor && checks.length < f.limit);
      print(ctx.output, checks, checkRows);
    });

  const exportCmd = new Command('export')
    .description('every check (or one host\'s) as CSV or NDJSON on stdout, oldest first, streamed: vigil export --format csv > checks.csv')
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'ndjson', 'json']).default('csv'))
    .option('--host <host>', 'only this host (name or id)')
    .option('--since <when>', 'only checks since then: ISO 8601 or an age like 24h')
    .action(async (opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const f = parseFlags(exportFlags, opts);
      const hostId = f.host ? (await resolveHost(ctx.client, f.host)).id : undefined;
      const query = { format: f.format, ...(hostId ? { host_id: hostId } : {}), ...(f.since ? { from: f.since } : {}) };
      // parseAs 'stream': the body is piped to stdout as it arrives, so memory stays flat whatever the size.
      const answer = await ctx.client.GET('/api/monitoring/history/export', { params: { query }, parseAs: 'stream' });
      if (!answer.response.ok || !answer.data) {
        const problem = await answer.response.json().catch(() => undefined);
        throw problemError('export', answer.response.status, problem);
      }
      await pipeline(Readable.fromWeb(answer.data as import('node:stream/web').ReadableStream), process.stdout);
    });

  return [state, history, exportCmd];
}
