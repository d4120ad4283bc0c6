/**
 * Cost of values per check: a check with the SNMP probe alone, against the same check collecting a
 * ten-item SNMP template (eight scalars in one GET, two ifTable columns walked), both against
 * Debian's snmpd on loopback; and the remote-write encoding (protobuf + snappy) per sample.
 * Measures CPU ms per check in this process (snmpd is another process) and samples per second.
 * Run: `npm run bench:values -- [checks, default 300]`. Prints a Markdown table.
 */
import { runCheck } from '../src/probes/run-check.ts';
import type { ResolvedCredential } from '../src/probes/types.ts';
import { collectValues } from '../src/values/collect.ts';
import { itemSchema, type AssignedItem } from '../src/values/items.ts';
import { encodeWriteRequest } from '../src/values/remote-write-encoding.ts';
import { startSnmpd } from '../test/helpers/snmpd.ts';

const CHECKS = Number(process.argv[2] ?? 300);
const CONCURRENCY = 20;
const LOOPBACK = '127.0.0.1';
const failures = new Set<string>();

const TEN_ITEMS = [
  { name: 'uptime', unit: 'seconds', oid: '1.3.6.1.2.1.1.3.0', scale: 0.01 },
  { name: 'load1', oid: '1.3.6.1.4.1.2021.10.1.5.1', scale: 0.01 },
  { name: 'load5', oid: '1.3.6.1.4.1.2021.10.1.5.2', scale: 0.01 },
  { name: 'load15', oid: '1.3.6.1.4.1.2021.10.1.5.3', scale: 0.01 },
  { name: 'memory_total', unit: 'bytes', oid: '1.3.6.1.4.1.2021.4.5.0', scale: 1024 },
  { name: 'memory_available', unit: 'bytes', oid: '1.3.6.1.4.1.2021.4.6.0', scale: 1024 },
  { name: 'cpu_user', kind: 'counter', oid: '1.3.6.1.4.1.2021.11.50.0' },
  { name: 'cpu_idle', kind: 'counter', oid: '1.3.6.1.4.1.2021.11.53.0' },
  { name: 'if_in', unit: 'bytes', kind: 'counter', column: '1.3.6.1.2.1.2.2.1.10', label_column: '1.3.6.1.2.1.2.2.1.2' },
  { name: 'if_out', unit: 'bytes', kind: 'counter', column: '1.3.6.1.2.1.2.2.1.16', label_column: '1.3.6.1.2.1.2.2.1.2' },
].map((item): AssignedItem => ({ template: 'bench', item: itemSchema.parse({ source: 'snmp', ...item }) }));

async function measure(name: string, check: () => Promise<number>): Promise<string[]> {
  for (let i = 0; i < 10; i++) await check(); // warm-up
  const cpu = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  let samples = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < CHECKS) {
      const taken = await check();
      samples += taken;
    }
  }));
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return [name, String(CHECKS), ((used.user + used.system) / 1000 / CHECKS).toFixed(3), ((CHECKS / wallMs) * 1000).toFixed(0), (samples / CHECKS).toFixed(1), ((samples / wallMs) * 1000).toFixed(0)];
}

async function main(): Promise<void> {
  const snmpd = await startSnmpd();
  const credential: ResolvedCredential = { kind: 'snmp-community', community: snmpd.community };
  const probes = [{ type: 'snmp', port: snmpd.port, credential_id: crypto.randomUUID() }];
  const opts = { timeoutMs: 5000, resolveCredential: async () => credential };
  const rows: string[][] = [];
  try {
    rows.push(await measure('snmp probe alone', async () => ((await runCheck({ address: LOOPBACK, probes }, opts)).success ? 0 : 0)));
    rows.push(await measure('snmp probe + 10-item template', async () => {
      const result = await runCheck({ address: LOOPBACK, probes }, opts);
      const values = await collectValues({ address: LOOPBACK, probes, items: TEN_ITEMS, previous: null, sshHostKeySha256: null, resolveCredential: opts.resolveCredential, timeoutMs: 5000, now: () => new Date() }, result);
      const errors = (values.result.detail.values as { errors: string[] }).errors;
      if (errors.length > 0) failures.add(errors[0]!);
      return values.samples.length;
    }));
  } finally {
    await snmpd.stop();
  }
  if (failures.size > 0) console.log(`errors seen: ${[...failures].slice(0, 3).join(' | ')}`);
  const header = ['check', 'checks', 'CPU ms per check (Vigil process)', 'checks/s (20 at once)', 'samples per check', 'samples/s'];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);

  const series = Array.from({ length: 2000 }, (_, i) => ({ labels: { __name__: 'vigil_if_in_bytes_total', host: `host-${i % 200}`, template: 'bench', item: 'if_in', row: `eth${i % 10}` }, samples: [{ value: i * 1000, timestampMs: Date.now() }] }));
  const cpu = process.cpuUsage();
  let bytes = 0;
  for (let i = 0; i < 50; i++) bytes += encodeWriteRequest(series).length;
  const used = process.cpuUsage(cpu);
  console.log(`\nremote-write encoding: ${(((used.user + used.system) / 1000 / (50 * 2000)) * 1000).toFixed(2)} µs CPU per sample, ${(bytes / (50 * 2000)).toFixed(1)} bytes per sample on the wire (batches of 2000)`);
}

await main();
