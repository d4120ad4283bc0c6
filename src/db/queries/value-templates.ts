import type { Queryable } from '../pool.ts';

/** A value template as stored; `items` was validated by src/values/items.ts before it was written. */
export interface TemplateRow {
  id: string;
  name: string;
  description: string;
  sys_object_ids: string[];
  items: unknown[];
  created_at: Date;
  updated_at: Date;
}

export interface TemplateWrite {
  name: string;
  description: string;
  sysObjectIds: string[];
  items: unknown[];
}

export async function insertTemplate(db: Queryable, t: TemplateWrite): Promise<TemplateRow> {
  const { rows } = await db.query<TemplateRow>(
    `INSERT INTO value_templates (name, description, sys_object_ids, items) VALUES ($1, $2, $3, $4::jsonb) RETURNING *`,
    [t.name, t.description, t.sysObjectIds, JSON.stringify(t.items)],
  );
  return rows[0]!;
}

export async function replaceTemplate(db: Queryable, id: string, t: TemplateWrite): Promise<TemplateRow | undefined> {
  const { rows } = await db.query<TemplateRow>(
    `UPDATE value_templates SET name = $2, description = $3, sys_object_ids = $4, items = $5::jsonb, updated_at = now() WHERE id = $1 RETURNING *`,
    [id, t.name, t.description, t.sysObjectIds, JSON.stringify(t.items)],
  );
  return rows[0];
}

export async function getTemplate(db: Queryable, id: string): Promise<TemplateRow | undefined> {
  const { rows } = await db.query<TemplateRow>(`SELECT * FROM value_templates WHERE id = $1`, [id]);
  return rows[0];
}

/** Templates are few (a library, not per host): all of them, by name. */
export async function listTemplates(db: Queryable): Promise<TemplateRow[]> {
  const { rows } = await db.query<TemplateRow>(`SELECT * FROM value_templates ORDER BY name LIMIT 1000`);
  return rows;
}

export async function deleteTemplate(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM value_templates WHERE id = $1`, [id]);
  return (rowCount ?? 0) > 0;
}

/** Template ids among `ids` that exist. */
export async function existingTemplateIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM value_templates WHERE id = ANY($1::uuid[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Replaces the templates assigned to a host directly; run in the caller's transaction with the check above. */
export async function setHostTemplates(db: Queryable, hostId: string, templateIds: string[]): Promise<void> {
  await db.query(`DELETE FROM host_value_templates WHERE host_id = $1`, [hostId]);
  await db.query(`INSERT INTO host_value_templates (host_id, template_id) SELECT $1, unnest($2::uuid[])`, [hostId, templateIds]);
}

export async function setGroupTemplates(db: Queryable, group: string, templateIds: string[]): Promise<void> {
  await db.query(`DELETE FROM group_value_templates WHERE group_name = $1`, [group]);
  await db.query(`INSERT INTO group_value_templates (group_name, template_id) SELECT $1, unnest($2::uuid[])`, [group, templateIds]);
}

export interface AssignedTemplateRow {
  id: string;
  name: string;
  /** 'host' when assigned to the host itself, 'group' through its group. */
  via: 'host' | 'group';
}

export async function hostTemplates(db: Queryable, hostId: string): Promise<AssignedTemplateRow[]> {
  const { rows } = await db.query<AssignedTemplateRow>(
    `SELECT t.id, t.name, 'host' AS via FROM host_value_templates a JOIN value_templates t ON t.id = a.template_id WHERE a.host_id = $1
     UNION ALL
     SELECT t.id, t.name, 'group' FROM hosts h JOIN group_value_templates g ON g.group_name = h."group" JOIN value_templates t ON t.id = g.template_id WHERE h.id = $1
     ORDER BY 2, 3 DESC`,
    [hostId],
  );
  return rows;
}

export async function groupTemplates(db: Queryable, group: string): Promise<AssignedTemplateRow[]> {
  const { rows } = await db.query<AssignedTemplateRow>(
    `SELECT t.id, t.name, 'group' AS via FROM group_value_templates g JOIN value_templates t ON t.id = g.template_id WHERE g.group_name = $1 ORDER BY t.name`,
    [group],
  );
  return rows;
}

/** What the worker needs to collect a host's values: its templates' items and its latest values. */
export interface HostValueWork {
  /** Host name and group: the samples' labels. */
  name: string;
  group: string | null;
  /** True while the host waits for its templates to be chosen by sysObjectID. */
  auto_detect: boolean;
  templates: { name: string; items: unknown[] }[];
  latest_values: unknown;
}

/**
 * The templates (direct and through the group, each once) of the hosts in a worker's batch. One
 * query per batch, answered from the two assignment tables' primary keys; hosts without
 * templates are absent from the map. The hosts with templates (or waiting for auto-detection) are
 * picked first, so the usual batch, with none, costs three index probes per host and no
 * aggregation (a third of the time of aggregating every host, measured at 40 hosts).
 */
export async function valueWorkForHosts(db: Queryable, hostIds: string[]): Promise<Map<string, HostValueWork>> {
  const { rows } = await db.query<{ host_id: string } & HostValueWork>(
    `WITH c AS (
       SELECT h.id, h.name, h."group", h.latest_values, d.host_id IS NOT NULL AS auto_detect
         FROM hosts h LEFT JOIN host_value_auto_detect d ON d.host_id = h.id
        WHERE h.id = ANY($1::uuid[])
          AND (d.host_id IS NOT NULL OR EXISTS (SELECT 1 FROM host_value_templates x WHERE x.host_id = h.id)
               OR EXISTS (SELECT 1 FROM group_value_templates y WHERE y.group_name = h."group")))
     SELECT c.id AS host_id, c.name, c."group", c.latest_values, c.auto_detect,
            coalesce(jsonb_agg(jsonb_build_object('name', t.name, 'items', t.items) ORDER BY t.name) FILTER (WHERE t.id IS NOT NULL), '[]') AS templates
       FROM c
       LEFT JOIN LATERAL (
         SELECT template_id FROM host_value_templates WHERE host_id = c.id
         UNION
         SELECT template_id FROM group_value_templates WHERE group_name = c."group"
       ) a ON true
       LEFT JOIN value_templates t ON t.id = a.template_id
      GROUP BY c.id, c.name, c."group", c.latest_values, c.auto_detect
     HAVING count(t.id) > 0 OR c.auto_detect`,
    [hostIds],
  );
  return new Map(rows.map(({ host_id: hostId, ...work }) => [hostId, work]));
}

/** Asks for (or cancels) choosing the host's templates by its sysObjectID at its next check. */
export async function setAutoDetect(db: Queryable, hostId: string, wanted: boolean): Promise<void> {
  if (wanted) await db.query(`INSERT INTO host_value_auto_detect (host_id) VALUES ($1) ON CONFLICT DO NOTHING`, [hostId]);
  else await db.query(`DELETE FROM host_value_auto_detect WHERE host_id = $1`, [hostId]);
}

export async function autoDetectPending(db: Queryable, hostId: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM host_value_auto_detect WHERE host_id = $1`, [hostId]);
  return (rowCount ?? 0) > 0;
}

/**
 * The templates whose sys_object_ids prefixes fit `sysObjectId` best: the longest matching prefix
 * wins (a model's template over its vendor's), every template sharing that length is chosen.
 */
export async function templatesFittingSysObjectId(db: Queryable, sysObjectId: string): Promise<{ id: string; name: string; items: unknown[] }[]> {
  const { rows } = await db.query<{ id: string; name: string; items: unknown[] }>(
    `WITH fits AS (
       SELECT t.id, t.name, t.items, max(length(p)) AS fit
         FROM value_templates t, unnest(t.sys_object_ids) p
        WHERE $1 = p OR starts_with($1, p || '.')
        GROUP BY t.id
     )
     SELECT id, name, items FROM fits WHERE fit = (SELECT max(fit) FROM fits) ORDER BY name`,
    [sysObjectId],
  );
  return rows;
}

/** Assigns the detected templates and ends the host's wait; one transaction, opened by the caller. */
export async function completeAutoDetect(db: Queryable, hostId: string, templateIds: string[]): Promise<void> {
  await db.query(`INSERT INTO host_value_templates (host_id, template_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`, [hostId, templateIds]);
  await db.query(`DELETE FROM host_value_auto_detect WHERE host_id = $1`, [hostId]);
}

/**
 * The latest values of a host, written after a check that collected them. Outside the check's
 * result transaction, like probe memory: a lost write only means one rate is measured over two checks.
 */
export async function saveLatestValues(db: Queryable, hostId: string, latest: unknown): Promise<void> {
  await db.query(`UPDATE hosts SET latest_values = $2::jsonb WHERE id = $1`, [hostId, JSON.stringify(latest)]);
}

export async function latestValues(db: Queryable, hostId: string): Promise<unknown> {
  const { rows } = await db.query<{ latest_values: unknown }>(`SELECT latest_values FROM hosts WHERE id = $1`, [hostId]);
  return rows[0]?.latest_values ?? null;
}
