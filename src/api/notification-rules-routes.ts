import { randomUUID } from 'node:crypto';
import { deleteRule, getRule, insertRule, listRules, missingChannels, replaceRuleChannels, updateRule, type RuleRow } from '../db/queries/notification-settings.ts';
import { withTransaction } from '../db/transaction.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import type { ApiDeps } from './deps.ts';
import { NOTIFICATION_EXAMPLES as EX } from './notification-examples.ts';
import { ruleCreateSchema, ruleIdParams, ruleListSchema, rulePatchSchema, ruleSchema } from './notification-schemas.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const CHANNEL_TAGS = ['notifications'];

function serializeRule(r: RuleRow) {
  return { ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() };
}

/** Notification rules: which events go to which channels, with cooldown and reminders (admin only). */
export function ruleRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  const byId = { params: ruleIdParams };
  const requireChannels = async (ids: string[]) => {
    const missing = await missingChannels(pool, ids);
    if (missing.length > 0) throw badRequest('unknown channels', [{ field: 'body.channel_ids', message: `no notification channel with id ${missing.join(', ')}` }]);
  };
  return [
    defineRoute({
      method: 'post',
      path: '/api/notification-rules',
      operationId: 'createNotificationRule',
      summary: 'Route events to channels: which events, filtered by state, group, tag and host, with cooldown and re-notification',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      body: ruleCreateSchema,
      examples: { request: EX.ruleCreate, responses: { 201: [EX.rule] } },
      responses: { 201: { description: 'Created', schema: ruleSchema }, 400: problem('Invalid body or unknown channel'), 409: problem('The name is taken') },
      handler: async ({ body }) => {
        const channelIds = [...new Set(body.channel_ids)];
        await requireChannels(channelIds);
        const fields = {
          name: body.name, eventTypes: body.event_types, states: body.states, groups: body.groups, tags: body.tags, hostIds: body.host_ids,
          cooldownSeconds: body.cooldown_seconds, renotifySeconds: body.renotify_seconds, enabled: body.enabled,
        };
        // The rule and its channel links are one write.
        const row = await withTransaction(pool, (tx) => insertRule(tx, randomUUID(), fields, channelIds));
        return { status: 201, body: serializeRule(row), headers: { Location: `/api/notification-rules/${row.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/notification-rules',
      operationId: 'listNotificationRules',
      summary: 'List notification rules',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      examples: { responses: { 200: [EX.ruleList] } },
      responses: { 200: { description: 'Every rule, oldest first', schema: ruleListSchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { rules: (await listRules(pool)).map(serializeRule) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/notification-rules/{rule_id}',
      operationId: 'getNotificationRule',
      summary: 'One notification rule',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      examples: { responses: { 200: [EX.rule] } },
      responses: { 200: { description: 'The rule', schema: ruleSchema }, 400: problem('Malformed id'), 404: problem('No such rule') },
      handler: async ({ params }) => {
        const row = await getRule(pool, params.rule_id);
        if (!row) throw notFound('notification rule');
        return { status: 200, body: serializeRule(row) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/notification-rules/{rule_id}',
      operationId: 'updateNotificationRule',
      summary: 'Change a rule (channel_ids replaces the channel list)',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      body: rulePatchSchema,
      examples: { request: EX.rulePatch, responses: { 200: [EX.rule] } },
      responses: { 200: { description: 'The rule', schema: ruleSchema }, 400: problem('Invalid id, body or unknown channel'), 404: problem('No such rule'), 409: problem('The name is taken') },
      handler: async ({ params, body }) => {
        const channelIds = body.channel_ids && [...new Set(body.channel_ids)];
        if (channelIds) await requireChannels(channelIds);
        const fields = {
          name: body.name, eventTypes: body.event_types, states: body.states, groups: body.groups, tags: body.tags, hostIds: body.host_ids,
          cooldownSeconds: body.cooldown_seconds, renotifySeconds: body.renotify_seconds, enabled: body.enabled,
        };
        const row = await withTransaction(pool, async (tx) => {
          if (!(await updateRule(tx, params.rule_id, fields))) return undefined;
          if (channelIds) await replaceRuleChannels(tx, params.rule_id, channelIds);
          return getRule(tx, params.rule_id);
        });
        if (!row) throw notFound('notification rule');
        return { status: 200, body: serializeRule(row) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/notification-rules/{rule_id}',
      operationId: 'deleteNotificationRule',
      summary: 'Delete a rule (its deliveries stay in the channels\' logs)',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      responses: { 204: { description: 'Deleted' }, 400: problem('Malformed id'), 404: problem('No such rule') },
      handler: async ({ params }) => {
        if (!(await deleteRule(pool, params.rule_id))) throw notFound('notification rule');
        return { status: 204 };
      },
    }),
  ];
}
