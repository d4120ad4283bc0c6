import { Argument, Command, Option } from 'commander';
import { bodyOf } from '../api-client.ts';
import { contextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { findHostByName, resolveHost } from '../host-ref.ts';
import { print } from '../output.ts';
import { updateGroup } from './groups.ts';

/**
 * `vigil maintenance on|off <host|group>`: a name is a host if one has it, else a group
 * (--group or --host decide when both exist).
 */
export function maintenanceCommand(): Command {
  return new Command('maintenance')
    .description('put a host or a whole group in maintenance (no scheduled checks, no state changes) or take it out')
    .addArgument(new Argument('<on|off>', 'on or off').choices(['on', 'off']))
    .argument('<target>', 'host name or id, or group name')
    .addOption(new Option('--group', 'the target is a group').conflicts('host'))
    .option('--host', 'the target is a host')
    .action(async (onOff: 'on' | 'off', target: string, opts: { group?: boolean; host?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const maintenance = onOff === 'on';
      const host = opts.group ? undefined : opts.host ? await resolveHost(ctx.client, target) : await findHostOrNothing(ctx, target);
      if (host) {
        const changed = bodyOf(`maintenance ${host.name}`, await ctx.client.PATCH('/api/hosts/{host_id}', { params: { path: { host_id: host.id } }, body: { maintenance } }));
        print(ctx.output, { host: changed.name, maintenance: changed.maintenance }, (r) => `host ${r.host}: maintenance ${onOff}`);
        return;
      }
      const group = await ctx.client.GET('/api/groups/{group}', { params: { path: { group: target } } });
      if (group.response.status === 404 && !opts.group) throw new CliError(`no host or group named ${JSON.stringify(target)}`);
      bodyOf(`group ${target}`, group);
      const changed = await updateGroup(ctx.client, target, { maintenance });
      print(ctx.output, { group: changed.name, maintenance: changed.maintenance, hosts: changed.host_count }, (r) => `group ${r.group} (${r.hosts} hosts): maintenance ${onOff}`);
    });
}

async function findHostOrNothing(ctx: ReturnType<typeof contextOf>, target: string) {
  if (/^[0-9a-f-]{36}$/i.test(target)) return resolveHost(ctx.client, target);
  return findHostByName(ctx.client, target);
}
