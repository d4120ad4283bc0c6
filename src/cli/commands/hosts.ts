import { Command, Option } from 'commander';
import { z } from 'zod';
import { bodyOf, type HostCreateBody, type HostPatchBody, type Schemas } from '../api-client.ts';
import { contextOf, parseFlags } from '../context.ts';
import { resolveHost } from '../host-ref.ts';
import { dash, formatFields, formatTable, ms, paintState, print } from '../output.ts';
import { parseProbeSpec } from '../probe-spec.ts';
import { importCommand } from './import.ts';
import { HOST_STATE_NAMES } from './shared.ts';

type Host = Schemas['Host'];

const listFlags = z.object({
  state: z.enum(HOST_STATE_NAMES).optional(),
  group: z.string().min(1).max(255).optional(),
  tag: z.string().min(1).max(64).optional(),
  search: z.string().trim().min(1).max(255).optional(),
  limit: z.coerce.number().int().min(1).max(1_000_000).default(100),
  all: z.boolean().default(false),
});

const onOff = z.enum(['on', 'off']).transform((v) => v === 'on');

const hostFlags = z.object({
  address: z.string().trim().min(1).max(255).optional(),
  probe: z.array(z.string()).max(8).optional(),
  group: z.union([z.string().trim().min(1).max(255), z.literal(false)]).optional(),
  tag: z.array(z.string().trim().min(1).max(64)).max(32).optional(),
  name: z.string().trim().min(1).max(255).optional(),
  enabled: z.boolean().optional(),
  maintenance: onOff.optional(),
});

export function hostRows(hosts: Host[]): string {
  return formatTable(
    ['NAME', 'STATE', 'ADDRESS', 'GROUP', 'PROBES', 'LAST CHECK', 'RESPONSE', 'FLAGS'],
    hosts.map((h) => [
      h.name, paintState(h.monitoring_state), h.address, dash(h.group), h.probes.map((p) => String(p.type)).join(','),
      dash(h.last_check), ms(h.response_time_ms), [h.enabled ? '' : 'disabled', h.maintenance ? 'maintenance' : ''].filter(Boolean).join(','),
    ]),
  );
}

function hostDetail(h: Host): string {
  return formatFields([
    ['id', h.id], ['name', h.name], ['address', h.address], ['state', paintState(h.monitoring_state)], ['group', dash(h.group)],
    ['tags', h.tags.join(', ') || '-'], ['enabled', String(h.enabled)], ['maintenance', String(h.maintenance)],
    ['last check', dash(h.last_check)], ['response', ms(h.response_time_ms)], ['last error', dash(h.last_error_message)],
    ['next check', h.next_check_time], ...h.probes.map((p, i) => [`probe ${i + 1}`, JSON.stringify(p)] as [string, string]),
  ]);
}

export function hostsCommand(): Command {
  const hosts = new Command('hosts').description('list, show, add, change, remove and import hosts');

  hosts
    .command('list')
    .description('hosts sorted by name (first 100; --limit N or --all for more)')
    .addOption(new Option('--state <state>', 'only hosts in this state').choices(HOST_STATE_NAMES))
    .option('--group <group>', 'only hosts of this group')
    .option('--tag <tag>', 'only hosts with this tag')
    .option('--search <text>', 'only hosts whose name contains this (case-insensitive)')
    .option('--limit <n>', 'at most this many hosts', '100')
    .option('--all', 'every matching host')
    .action(async (opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const f = parseFlags(listFlags, opts);
      const want = f.all ? Infinity : f.limit;
      const found: Host[] = [];
      let after: string | undefined;
      do {
        const query = { limit: Math.min(1000, want - found.length), state: f.state, group: f.group, tag: f.tag, q: f.search, ...(after ? { after } : {}) };
        const page = bodyOf('list hosts', await ctx.client.GET('/api/hosts', { params: { query } }));
        found.push(...page.hosts);
        after = page.next_cursor ?? undefined;
      } while (after && found.length < want);
      print(ctx.output, found, hostRows);
    });

  hosts
    .command('get')
    .description('one host, by name or id')
    .argument('<host>', 'host name or id')
    .action(async (ref: string, _opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      print(ctx.output, await resolveHost(ctx.client, ref), hostDetail);
    });

  hosts
    .command('add')
    .description('add a host, e.g. vigil hosts add web-01 --address 10.0.0.5 --probe tcp:22 --probe https://10.0.0.5/health')
    .argument('<name>', 'unique host name')
    .requiredOption('--address <address>', 'host name or IP address the probes connect to')
    .requiredOption('--probe <spec...>', 'tcp:PORT, an http(s):// URL, or a JSON probe object (repeatable, run in order)')
    .option('--group <group>', 'group the host sits behind')
    .option('--tag <tag...>', 'labels (repeatable)')
    .option('--disabled', 'add it without checking it')
    .addOption(new Option('--maintenance <on|off>', 'add it in maintenance').choices(['on', 'off']))
    .action(async (name: string, opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const f = parseFlags(hostFlags, { ...opts, name, enabled: opts.disabled ? false : undefined });
      const body = {
        name, address: f.address!, probes: f.probe!.map(parseProbeSpec) as HostCreateBody['probes'],
        ...(typeof f.group === 'string' ? { group: f.group } : {}), ...(f.tag ? { tags: f.tag } : {}),
        ...(f.enabled === false ? { enabled: false } : {}), ...(f.maintenance !== undefined ? { maintenance: f.maintenance } : {}),
      };
      const host = bodyOf(`add host ${name}`, await ctx.client.POST('/api/hosts', { body }));
      print(ctx.output, host, (h) => `added ${h.name} (${h.id})`);
    });

  hosts
    .command('set')
    .description('change a host: only the fields given change')
    .argument('<host>', 'host name or id')
    .option('--name <name>', 'rename it')
    .option('--address <address>', 'new address')
    .option('--probe <spec...>', 'replace the probes (tcp:PORT, URL or JSON; repeatable)')
    .option('--group <group>', 'move it to this group')
    .option('--no-group', 'take it out of its group')
    .option('--tag <tag...>', 'replace the tags')
    .option('--enable', 'check it')
    .option('--disable', 'stop checking it')
    .addOption(new Option('--maintenance <on|off>', "the host's own maintenance flag").choices(['on', 'off']))
    .action(async (ref: string, opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const enabled = opts.enable ? true : opts.disable ? false : undefined;
      // commander sets group=true for "neither --group nor --no-group"
      const f = parseFlags(hostFlags, { ...opts, group: opts.group === true ? undefined : opts.group, enabled });
      const body: HostPatchBody = {
        ...(f.name ? { name: f.name } : {}), ...(f.address ? { address: f.address } : {}),
        ...(f.probe ? { probes: f.probe.map(parseProbeSpec) as HostPatchBody['probes'] } : {}),
        ...(f.group !== undefined ? { group: f.group === false ? null : f.group } : {}), ...(f.tag ? { tags: f.tag } : {}),
        ...(f.enabled !== undefined ? { enabled: f.enabled } : {}), ...(f.maintenance !== undefined ? { maintenance: f.maintenance } : {}),
      };
      const host = await resolveHost(ctx.client, ref);
      const changed = bodyOf(`change host ${host.name}`, await ctx.client.PATCH('/api/hosts/{host_id}', { params: { path: { host_id: host.id } }, body }));
      print(ctx.output, changed, hostDetail);
    });

  hosts
    .command('rm')
    .description('remove hosts and their history')
    .argument('<host...>', 'host names or ids')
    .action(async (refs: string[], _opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const removed: { id: string; name: string }[] = [];
      for (const ref of refs) {
        const host = await resolveHost(ctx.client, ref);
        const answer = await ctx.client.DELETE('/api/hosts/{host_id}', { params: { path: { host_id: host.id } } });
        if (!answer.response.ok) bodyOf(`remove host ${host.name}`, { ...answer, data: undefined });
        removed.push({ id: host.id, name: host.name });
      }
      print(ctx.output, { removed }, (r) => r.removed.map((h) => `removed ${h.name} (${h.id})`).join('\n'));
    });

  hosts.addCommand(importCommand());
  return hosts;
}
