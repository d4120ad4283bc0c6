import { Command, Option } from 'commander';
import { z } from 'zod';
import { bodyOf, type GroupUpdateBody, type Schemas } from '../api-client.ts';
import { contextOf, parseFlags } from '../context.ts';
import { formatFields, formatTable, print } from '../output.ts';
import { usageError } from '../errors.ts';

type Group = Schemas['Group'];

const byState = (g: Group) => Object.entries(g.by_state).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ') || '-';

const groupRows = (groups: Group[]) =>
  formatTable(['GROUP', 'HOSTS', 'MAX CONCURRENT', 'MAINTENANCE', 'STATES'], groups.map((g) => [g.name, String(g.host_count), String(g.max_concurrent_checks), g.maintenance ? 'on' : 'off', byState(g)]));

const groupDetail = (g: Group) =>
  formatFields([['group', g.name], ['hosts', String(g.host_count)], ['max concurrent checks', String(g.max_concurrent_checks)], ['maintenance', g.maintenance ? 'on' : 'off'], ['states', byState(g)]]);

const setFlags = z.object({
  maxConcurrent: z.coerce.number().int().min(1).max(1000).optional(),
  maintenance: z.enum(['on', 'off']).transform((v) => v === 'on').optional(),
});

export function groupsCommand(): Command {
  const groups = new Command('groups').description('groups: limits, maintenance, bulk reset/enable/disable');
  groups.command('list').description('every group').action(async (_opts, cmd: Command) => {
    const ctx = contextOf(cmd);
    print(ctx.output, bodyOf('list groups', await ctx.client.GET('/api/groups')).groups, groupRows);
  });
  groups.command('get').description('one group').argument('<group>').action(async (group: string, _opts, cmd: Command) => {
    const ctx = contextOf(cmd);
    print(ctx.output, bodyOf(`group ${group}`, await ctx.client.GET('/api/groups/{group}', { params: { path: { group } } })), groupDetail);
  });
  groups
    .command('set')
    .description("change a group's settings")
    .argument('<group>')
    .option('--max-concurrent <n>', 'checks of the group that may run at once (1-1000)')
    .addOption(new Option('--maintenance <on|off>', 'the whole group in maintenance').choices(['on', 'off']))
    .action(async (group: string, opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const f = parseFlags(setFlags, opts);
      const body: GroupUpdateBody = { ...(f.maxConcurrent !== undefined ? { max_concurrent_checks: f.maxConcurrent } : {}), ...(f.maintenance !== undefined ? { maintenance: f.maintenance } : {}) };
      if (Object.keys(body).length === 0) throw usageError('give --max-concurrent or --maintenance');
      print(ctx.output, await updateGroup(ctx.client, group, body), groupDetail);
    });
  for (const action of ['reset', 'enable', 'disable'] as const) {
    const what = { reset: 'put every host of the group back to HEALTHY', enable: 'enable every host of the group', disable: 'disable every host of the group' }[action];
    groups.command(action).description(what).argument('<group>').action(async (group: string, _opts, cmd: Command) => {
      const ctx = contextOf(cmd);
      const done = bodyOf(`${action} ${group}`, await ctx.client.POST(`/api/groups/{group}/${action}`, { params: { path: { group } } }));
      print(ctx.output, done, (d) => `${action}: ${d.affected} host(s) of ${d.group}`);
    });
  }
  return groups;
}

export async function updateGroup(client: ReturnType<typeof contextOf>['client'], group: string, body: GroupUpdateBody): Promise<Group> {
  return bodyOf(`change group ${group}`, await client.PATCH('/api/groups/{group}', { params: { path: { group } }, body }));
}
