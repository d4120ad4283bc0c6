import { Command } from 'commander';
import { z } from 'zod';
import type { Schemas } from '../api-client.ts';
import { contextOf, parseFlags } from '../context.ts';
import { CliError } from '../errors.ts';
import { resolveHost } from '../host-ref.ts';
import { printJson } from '../output.ts';

/**
 * `vigil check <host>`: a JIT check that waits, for pipelines and Nagios/Icinga. Exit codes and the
 * one-line output follow the Nagios plugin convention, whatever goes wrong (bad flags included).
 */
export const CHECK_EXIT = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
type Verdict = keyof typeof CHECK_EXIT;

// UNREACHABLE: its parent is failing, so nothing is known of the host itself (Nagios's host UNREACHABLE is not a service verdict).
const VERDICT_BY_STATE: Record<string, Verdict> = { HEALTHY: 'OK', DEGRADED: 'WARNING', CRITICAL: 'CRITICAL', DOWN: 'CRITICAL', UNREACHABLE: 'UNKNOWN' };

const checkFlags = z.object({
  maxAge: z.coerce.number().min(0).max(86_400).optional(),
  timeout: z.coerce.number().min(0.1).max(60).default(15),
});

interface CheckOutcome {
  verdict: Verdict;
  line: string;
  host?: string;
  state?: string;
  response_time_ms?: number | null;
  result?: Schemas['CheckResult'] | null;
}

/** `VIGIL OK - web-01 HEALTHY, 12 ms | time=0.012s` (perfdata only when a time was measured). */
export function pluginLine(verdict: Verdict, host: string, result: Schemas['CheckResult']): string {
  const rt = result.response_time_ms;
  const what = result.success ? (rt === null ? 'ok' : `${Math.round(rt)} ms`) : `${result.error_type ?? 'failed'}: ${(result.error_message ?? '').replace(/[|\n]/g, ' ')}`;
  const perf = rt === null ? '' : ` | time=${(rt / 1000).toFixed(3)}s`;
  return `VIGIL ${verdict} - ${host} ${result.state}, ${what}${perf}`;
}

async function runCheck(ref: string, opts: unknown, cmd: Command): Promise<CheckOutcome> {
  const ctx = contextOf(cmd);
  const f = parseFlags(checkFlags, opts);
  const host = await resolveHost(ctx.client, ref);
  const query = { wait: 'true' as const, timeout: f.timeout, ...(f.maxAge !== undefined ? { max_age: f.maxAge } : {}) };
  const answer = await ctx.client.POST('/api/monitoring/hosts/{host_id}/check-connectivity', {
    params: { path: { host_id: host.id }, query },
    // The server answers 202 after `timeout`; this bounds a server that doesn't answer at all.
    signal: AbortSignal.timeout((f.timeout + 10) * 1000),
  });
  const check = answer.data;
  if (!check) throw new CliError(`HTTP ${answer.response.status}: ${(answer.error as { detail?: string } | undefined)?.detail ?? 'no answer'}`);
  if (!check.result) return { verdict: 'UNKNOWN', line: `VIGIL UNKNOWN - ${host.name}: no result within ${f.timeout} s (${check.message})`, host: host.name, result: null };
  const verdict = VERDICT_BY_STATE[check.result.state] ?? 'UNKNOWN';
  return { verdict, line: pluginLine(verdict, host.name, check.result), host: host.name, state: check.result.state, response_time_ms: check.result.response_time_ms, result: check.result };
}

export function checkCommand(): Command {
  return new Command('check')
    .description('check a host now and wait; exit 0 HEALTHY, 1 DEGRADED, 2 CRITICAL or DOWN, 3 unknown or error (Nagios plugin convention)')
    .argument('<host>', 'host name or id')
    .option('--max-age <seconds>', 'accept a result at most this old instead of checking again')
    .option('--timeout <seconds>', 'wait at most this long for the result (0.1-60)', '15')
    .action(async (ref: string, opts, cmd: Command) => {
      let outcome: CheckOutcome;
      try {
        outcome = await runCheck(ref, opts, cmd);
      } catch (err) {
        const message = (err instanceof Error ? err.message : String(err)).replace(/\n\s*/g, '; ');
        outcome = { verdict: 'UNKNOWN', line: `VIGIL UNKNOWN - ${ref}: ${message}` };
      }
      if (cmd.optsWithGlobals().output === 'json') printJson({ status: outcome.verdict, exit_code: CHECK_EXIT[outcome.verdict], ...outcome });
      else process.stdout.write(`${outcome.line}\n`);
      process.exitCode = CHECK_EXIT[outcome.verdict];
    });
}
