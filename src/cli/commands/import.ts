import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { Command } from 'commander';
import { bodyOf, type ApiClient, type HostCreateBody } from '../api-client.ts';
import { contextOf } from '../context.ts';
import { coerceError } from '../../lib/errors.ts';
import { usageError } from '../errors.ts';
import { print } from '../output.ts';
import { parseProbeSpec } from '../probe-spec.ts';
import { startProgress } from '../progress.ts';

/** Hosts per bulk request (the API's maximum). */
const BATCH = 5000;

/**
 * `vigil hosts import hosts.csv`: a header row, then one host a row. Columns: name, address,
 * probe (also probe2, probe3 …: tcp:PORT, a URL or a JSON probe), group, tags (separated by ; or
 * spaces), enabled, maintenance (true/false). Every row is validated before anything is sent.
 */
export function importCommand(): Command {
  return new Command('import')
    .description('add hosts from a CSV file (columns: name,address,probe[,probe2…][,group][,tags][,enabled][,maintenance]), 5,000 per request')
    .argument('<file>', 'CSV file with a header row')
    .option('--upsert', 'change hosts that already exist instead of refusing the batch')
    .action(async (file: string, opts: { upsert?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const hosts = await readHostsCsv(file);
      const totals = await importHosts(ctx.client, hosts, opts.upsert ?? false);
      print(ctx.output, totals, (t) => `imported ${file}: ${t.created} created, ${t.changed} changed, ${t.unchanged} unchanged in ${t.seconds} s (${t.hosts_per_second} hosts/s)`);
    });
}

export async function readHostsCsv(file: string): Promise<HostCreateBody[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw usageError(`${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (err) {
    throw usageError(`${file}: not valid CSV: ${coerceError(err).message}`);
  }
  const { hostCreateSchema } = await import('../../api/schemas.ts');
  const errors: string[] = [];
  const hosts = rows.flatMap((row, i) => {
    const line = i + 2; // the header is line 1
    try {
      const probes = Object.keys(row).filter((k) => /^probes?\d*$/.test(k) && row[k]).map((k) => parseProbeSpec(row[k]!));
      const candidate = {
        name: row.name, address: row.address, probes,
        ...(row.group ? { group: row.group } : {}),
        ...(row.tags ? { tags: row.tags.split(/[;\s]+/).filter(Boolean) } : {}),
        ...(row.enabled ? { enabled: row.enabled === 'true' } : {}),
        ...(row.maintenance ? { maintenance: row.maintenance === 'true' } : {}),
      };
      const parsed = hostCreateSchema.safeParse(candidate);
      if (parsed.success) return [parsed.data as HostCreateBody];
      errors.push(...parsed.error.issues.map((is) => `${file}:${line}: ${is.path.join('.') || 'row'}: ${is.message}`));
    } catch (err) {
      errors.push(`${file}:${line}: ${coerceError(err).message}`);
    }
    return [];
  });
  if (errors.length > 0) throw usageError(`${errors.slice(0, 50).join('\n')}${errors.length > 50 ? `\n… and ${errors.length - 50} more` : ''}`);
  return hosts;
}

export async function importHosts(client: ApiClient, hosts: HostCreateBody[], upsert: boolean) {
  const started = Date.now();
  const progress = startProgress('importing hosts', hosts.length);
  const totals = { created: 0, changed: 0, unchanged: 0 };
  try {
    for (let i = 0; i < hosts.length; i += BATCH) {
      const batch = hosts.slice(i, i + BATCH);
      const answer = await client.POST('/api/hosts/bulk', { params: { query: { upsert: upsert ? 'true' : 'false' } }, body: { hosts: batch } });
      const result = bodyOf(`import rows ${i + 2}-${i + batch.length + 1}`, answer);
      totals.created += result.created.length;
      totals.changed += result.changed.length;
      totals.unchanged += result.unchanged.length;
      progress.update(i + batch.length);
    }
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  return { ...totals, seconds: Math.round(seconds * 10) / 10, hosts_per_second: Math.round(hosts.length / Math.max(seconds, 0.001)) };
}
