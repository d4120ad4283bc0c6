import { z } from 'zod';
import { cursorParam } from './cursor.ts';
import { apiRegistry, hostCreateSchema, hostSchema, hostsByStateSchema } from './schemas.ts';

/** Request and response shapes of the summary, change feed and bulk host operations. */

const named = <T extends z.ZodType>(id: string, schema: T): T => {
  apiRegistry.add(schema, { id });
  return schema;
};

const isoTime = z.iso.datetime({ offset: true });
const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

export const summarySchema = named(
  'MonitoringSummary',
  z.object({
    total: z.int(),
    enabled: z.int(),
    disabled: z.int(),
    by_state: hostsByStateSchema,
    by_group: z
      .array(z.object({ group: z.string().nullable().describe('null: hosts without a group'), total: z.int(), by_state: hostsByStateSchema }))
      .describe('By group name, hosts without a group last'),
  }),
);

/** Change feed position: (transaction id, host id) of the last change handed out. */
export const changesQuery = z
  .object({
    since: cursorParam(z.tuple([z.string().regex(/^\d{1,20}$/), z.guid()]), 'The next_cursor of the previous call; omitted = from the beginning').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(500).describe('Changes per call (1–1000)'),
  })
  .strict();

export const changesSchema = named(
  'HostChanges',
  z.object({
    changes: z.array(hostSchema).describe('Hosts created or changed since the cursor, as they are now, in change order'),
    deleted: z.array(z.object({ id: z.uuid(), deleted_at: isoTime })).describe('Hosts deleted since the cursor'),
    next_cursor: z.string().describe('Pass as `since` next time (also when nothing changed)'),
    has_more: z.boolean().describe('true when the page is full: call again at once'),
  }),
);

export const MAX_BULK_HOSTS = 5000;

/** One host of a bulk request (also an entry of `vigil apply`'s inventory file): parents by name. */
export const bulkHostSchema = hostCreateSchema.extend({
  depends_on: z
    .array(z.string().trim().min(1).max(255))
    .max(16)
    .optional()
    .describe("Parents by name or id: hosts that exist or are in this batch; omitted = an existing host's parents are kept"),
});

export const bulkHostsSchema = named(
  'HostBulkCreate',
  z
    .object({
      hosts: z
        .array(bulkHostSchema)
        .min(1)
        .max(MAX_BULK_HOSTS)
        .superRefine((hosts, ctx) => {
          const firstIndex = new Map<string, number>();
          hosts.forEach((h, i) => {
            const first = firstIndex.get(h.name);
            if (first === undefined) firstIndex.set(h.name, i);
            else ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate of hosts.${first}.name` });
          });
        })
        .describe(`Up to ${MAX_BULK_HOSTS} hosts, validated and written as a whole`),
    })
    .strict(),
);

export const bulkHostsQuery = z
  .object({
    upsert: queryBoolean.default(false).describe('Change existing hosts of the same name (their state is kept) instead of refusing them'),
    dry_run: queryBoolean.default(false).describe('Validate and answer what would happen, writing nothing'),
  })
  .strict();

export const hostBulkResultSchema = named(
  'HostBulkResult',
  z.object({
    dry_run: z.boolean(),
    created: z.array(z.string()).describe('Names of hosts created (or that would be)'),
    changed: z.array(z.string()).describe('Names of existing hosts whose configuration changed'),
    unchanged: z.array(z.string()).describe('Names of existing hosts already configured exactly so'),
  }),
);
