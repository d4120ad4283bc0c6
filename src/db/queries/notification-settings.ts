import type { HostState } from '../../machine/states.ts';
import type { ChannelType } from '../../notifications/channel-config.ts';
import { badRequest, conflict } from '../../lib/errors.ts';
import type { Queryable } from '../pool.ts';
import { SQLSTATE, sqlState } from '../sqlstate.ts';
import type { EventType } from './events.ts';

/** A notification channel as stored; `secrets` is sealed (src/notifications/secrets.ts). */
export interface ChannelRow {
  id: string;
  name: string;
  type: ChannelType;
  /** The configuration without its secret fields. */
  settings: Record<string, unknown>;
  secrets: Buffer | null;
  /** Names of the secret fields set. */
  secret_fields: string[];
  enabled: boolean;
  rate_limit_per_minute: number;
  created_at: Date;
  updated_at: Date;
}

export interface ChannelFields {
  name: string;
  type: ChannelType;
  settings: Record<string, unknown>;
  secrets: Buffer | null;
  secretFields: string[];
  enabled: boolean;
  rateLimitPerMinute: number;
}

/** A unique name already taken becomes a 409 naming it. */
const nameTaken = (what: string, name: string | undefined) => (err: unknown): never => {
  if (sqlState(err) === SQLSTATE.uniqueViolation) throw conflict(`a notification ${what} named ${JSON.stringify(name)} already exists`);
  throw err;
};

const CHANNEL_COLUMNS = 'id, name, type, settings, secrets, secret_fields, enabled, rate_limit_per_minute, created_at, updated_at';

export async function insertChannel(db: Queryable, id: string, f: ChannelFields): Promise<ChannelRow> {
  const { rows } = await db.query<ChannelRow>(
    `INSERT INTO notification_channels (id, name, type, settings, secrets, secret_fields, enabled, rate_limit_per_minute)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${CHANNEL_COLUMNS}`,
    [id, f.name, f.type, f.settings, f.secrets, f.secretFields, f.enabled, f.rateLimitPerMinute],
  ).catch(nameTaken('channel', f.name));
  return rows[0]!;
}

export async function getChannel(db: Queryable, id: string): Promise<ChannelRow | undefined> {
  const { rows } = await db.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1`, [id]);
  return rows[0];
}

export async function listChannels(db: Queryable): Promise<ChannelRow[]> {
  const { rows } = await db.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels ORDER BY created_at, id`);
  return rows;
}

/** Changes the given fields (undefined = keep); settings, secrets and their names are replaced whole. */
export async function updateChannel(db: Queryable, id: string, f: Partial<Omit<ChannelFields, 'type'>>): Promise<ChannelRow | undefined> {
  const { rows } = await db.query<ChannelRow>(
    `UPDATE notification_channels SET
        name = COALESCE($2, name),
        settings = COALESCE($3, settings),
        secrets = CASE WHEN $4::boolean THEN $5::bytea ELSE secrets END,
        secret_fields = COALESCE($8, secret_fields),
        enabled = COALESCE($6, enabled),
        rate_limit_per_minute = COALESCE($7, rate_limit_per_minute),
        updated_at = now()
      WHERE id = $1
      RETURNING ${CHANNEL_COLUMNS}`,
    [id, f.name ?? null, f.settings ?? null, f.secrets !== undefined, f.secrets ?? null, f.enabled ?? null, f.rateLimitPerMinute ?? null, f.secretFields ?? null],
  ).catch(nameTaken('channel', f.name));
  return rows[0];
}

/** Deletes a channel, its delivery log and its place in rules; queued jobs find nothing and end. */
export async function deleteChannel(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM notification_channels WHERE id = $1`, [id]);
  return (rowCount ?? 0) > 0;
}

/** Which of `ids` name no channel. */
export async function missingChannels(db: Queryable, ids: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT wanted.id::text FROM unnest($1::uuid[]) AS wanted(id) WHERE NOT EXISTS (SELECT 1 FROM notification_channels c WHERE c.id = wanted.id)`,
    [ids],
  );
  return rows.map((r) => r.id);
}

// ---- rules ----------------------------------------------------------------------------------

export interface RuleRow {
  id: string;
  name: string;
  channel_ids: string[];
  event_types: EventType[];
  states: HostState[];
  groups: string[];
  tags: string[];
  host_ids: string[];
  cooldown_seconds: number;
  renotify_seconds: number | null;
  enabled: boolean;
  after_event_id: string;
  created_at: Date;
  updated_at: Date;
}

export interface RuleFields {
  name: string;
  eventTypes: EventType[];
  states: HostState[];
  groups: string[];
  tags: string[];
  hostIds: string[];
  cooldownSeconds: number;
  renotifySeconds: number | null;
  enabled: boolean;
}

const RULE_SELECT = `SELECT r.id, r.name, r.event_types, r.states, r.groups, r.tags, r.host_ids::text[] AS host_ids, r.cooldown_seconds,
       r.renotify_seconds, r.enabled, r.after_event_id::text, r.created_at, r.updated_at,
       COALESCE((SELECT array_agg(rc.channel_id::text ORDER BY rc.channel_id) FROM notification_rule_channels rc WHERE rc.rule_id = r.id), '{}') AS channel_ids
  FROM notification_rules r`;

/**
 * Inserts a rule that starts after the newest event committed so far, with its channels. Two
 * statements: the caller runs them in one transaction.
 */
export async function insertRule(tx: Queryable, id: string, f: RuleFields, channelIds: string[]): Promise<RuleRow> {
  await tx.query(
    `INSERT INTO notification_rules (id, name, event_types, states, groups, tags, host_ids, cooldown_seconds, renotify_seconds, enabled, after_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, (SELECT COALESCE(max(id), 0) FROM host_events))`,
    [id, f.name, f.eventTypes, f.states, f.groups, f.tags, f.hostIds, f.cooldownSeconds, f.renotifySeconds, f.enabled],
  ).catch(nameTaken('rule', f.name));
  await replaceRuleChannels(tx, id, channelIds);
  return (await getRule(tx, id))!;
}

/** Sets a rule's channels; a channel deleted meanwhile (after the caller checked) is a 400 naming the field. */
export async function replaceRuleChannels(tx: Queryable, ruleId: string, channelIds: string[]): Promise<void> {
  await tx.query(`DELETE FROM notification_rule_channels WHERE rule_id = $1`, [ruleId]);
  await tx.query(`INSERT INTO notification_rule_channels (rule_id, channel_id) SELECT $1, unnest($2::uuid[])`, [ruleId, channelIds]).catch((err: unknown) => {
    if (sqlState(err) === SQLSTATE.foreignKeyViolation) throw badRequest('unknown channels', [{ field: 'body.channel_ids', message: 'a notification channel named here does not exist' }]);
    throw err;
  });
}

export async function getRule(db: Queryable, id: string): Promise<RuleRow | undefined> {
  const { rows } = await db.query<RuleRow>(`${RULE_SELECT} WHERE r.id = $1`, [id]);
  return rows[0];
}

export async function listRules(db: Queryable): Promise<RuleRow[]> {
  const { rows } = await db.query<RuleRow>(`${RULE_SELECT} ORDER BY r.created_at, r.id`);
  return rows;
}

/** Changes the given fields (undefined = keep; renotifySeconds null = off). */
export async function updateRule(db: Queryable, id: string, f: Partial<RuleFields>): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE notification_rules SET
        name = COALESCE($2, name),
        event_types = COALESCE($3, event_types),
        states = COALESCE($4, states),
        groups = COALESCE($5, groups),
        tags = COALESCE($6, tags),
        host_ids = COALESCE($7, host_ids),
        cooldown_seconds = COALESCE($8, cooldown_seconds),
        renotify_seconds = CASE WHEN $9::boolean THEN $10::integer ELSE renotify_seconds END,
        enabled = COALESCE($11, enabled),
        updated_at = now()
      WHERE id = $1`,
    [
      id, f.name ?? null, f.eventTypes ?? null, f.states ?? null, f.groups ?? null, f.tags ?? null, f.hostIds ?? null,
      f.cooldownSeconds ?? null, f.renotifySeconds !== undefined, f.renotifySeconds ?? null, f.enabled ?? null,
    ],
  ).catch(nameTaken('rule', f.name));
  return (rowCount ?? 0) > 0;
}

export async function deleteRule(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM notification_rules WHERE id = $1`, [id]);
  return (rowCount ?? 0) > 0;
}
