import type { Command } from 'commander';
import { z } from 'zod';
import { createApiClient, type ApiClient, type Connection } from './api-client.ts';
import { usageError } from './errors.ts';
import { OUTPUTS, type Output } from './output.ts';

/** What every API command gets: a client for the Vigil at --url / VIGIL_URL, and the output format. */
export interface CliContext {
  client: ApiClient;
  conn: Connection;
  output: Output;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

const globalSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://vigil.example:8080' }),
  token: z.string().trim().min(1, 'must not be empty').optional(),
  output: z.enum(OUTPUTS),
});

/** Validates `values` (commander's parsed flags) with `schema`; a failure names each flag. */
export function parseFlags<S extends z.ZodType>(schema: S, values: unknown): z.output<S> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.map(String).join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'input'}: ${i.message}`);
  throw usageError(lines.join('\n'));
}

export function contextOf(cmd: Command): CliContext {
  const opts = parseFlags(globalSchema, cmd.optsWithGlobals());
  const conn = { url: opts.url, token: opts.token };
  return { client: createApiClient(conn), conn, output: opts.output };
}
