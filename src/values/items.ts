/**
 * Values, the domain words: an **item** is a named number a check collects (an SNMP OID or table
 * column, an SSH command's parsed output, an HTTP measurement) with a unit and a kind; a
 * **sample** is one reading of an item (one per table row); a **template** is a named set of items
 * assigned to hosts and groups; a **threshold** on an item turns a sample into health.
 */
import { z } from 'zod';
import { oidSchema } from '../probes/snmp.ts';
import { patternSchema } from '../probes/pattern.ts';

export const ITEM_KINDS = ['gauge', 'counter'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** Prometheus metric-name friendly: a template's items become `vigil_<item>_<unit>`. */
const itemNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be lower-case letters, digits and underscores, starting with a letter (max 64)')
  .describe('Item name, e.g. if_in_octets; the metric is vigil_<name>_<unit>[_total]');

const unitSchema = z
  .string()
  .regex(/^[a-z0-9_]{0,32}$/, 'must be lower-case letters, digits and underscores (max 32)')
  .default('')
  .describe("Unit as a Prometheus suffix: 'bytes', 'seconds', 'percent', 'celsius', 'dbm', '' for none");

export const thresholdSchema = z
  .object({
    above: z.number().optional().describe('Breached when the value is greater than this'),
    below: z.number().optional().describe('Breached when the value is less than this'),
  })
  .strict()
  .refine((t) => t.above !== undefined || t.below !== undefined, 'give above, below or both')
  .refine((t) => t.above === undefined || t.below === undefined || t.below <= t.above, 'below must not exceed above')
  .describe('Fails the check when the value (a counter: its rate per second) leaves the range. Both bounds: outside [below, above]');
export type Threshold = z.infer<typeof thresholdSchema>;

const common = {
  name: itemNameSchema,
  unit: unitSchema,
  kind: z.enum(ITEM_KINDS).default('gauge').describe('gauge: a level; counter: a growing total (thresholds apply to its rate per second)'),
  scale: z.number().positive().default(1).describe('Multiplier applied to the raw number (e.g. 1024 for kB to bytes)'),
  threshold: thresholdSchema.optional(),
};

export const snmpItemSchema = z
  .object({
    source: z.literal('snmp').describe('Read with SNMP, through the host\'s snmp or snmp-table probe settings'),
    ...common,
    oid: oidSchema.optional().describe('A scalar OID (e.g. 1.3.6.1.4.1.2021.10.1.5.1); all scalars of a check go in one GET'),
    column: oidSchema.optional().describe('A table column OID walked with GETBULK: one sample per row'),
    label_column: oidSchema.optional().describe("A column of the same table whose value labels each row (e.g. ifName); default: the row index"),
    max_rows: z.int().min(1).max(10_000).default(1000).describe('Most rows read from the table'),
  })
  .strict()
  .refine((i) => (i.oid === undefined) !== (i.column === undefined), 'give exactly one of oid and column')
  .refine((i) => i.label_column === undefined || i.column !== undefined, 'label_column needs column');
export type SnmpItem = z.infer<typeof snmpItemSchema>;

/** JSONPath subset: `$` then `.name`, `['name']` or `[n]` steps (no filters, no scripts, no wildcards: one value). */
export const valuePathSchema = z
  .string()
  .max(256)
  .regex(/^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\['[^'\\]{1,64}'\]|\[\d{1,6}\])*$/, "must be a JSONPath like $.load or $.disks[0]['used'] (names and indexes only)")
  .describe('Where the number is in the JSON: $ then .name, [\'name\'] or [n] steps');

const parserSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('regex').describe('The first capture group of the first match (RE2 syntax, ^ and $ at line ends)'), pattern: patternSchema('lines') }).strict(),
    z
      .object({
        kind: z.literal('key_value').describe('`key value` lines (e.g. /proc/meminfo, `df --output=target,pcent`)'),
        key: z.string().min(1).max(128).optional().describe('The line to read; without it, one sample per line labelled by its key (row)'),
      })
      .strict(),
    z.object({ kind: z.literal('json').describe('A number in JSON output'), path: valuePathSchema }).strict(),
  ])
  .describe('How the number is read from the output');

export const sshItemSchema = z
  .object({
    source: z.literal('ssh').describe("Run a command over SSH, through the host's ssh probe settings (one session for all of a check's commands)"),
    ...common,
    command: z.string().min(1).max(1024).describe('Command run on the host; items with the same command share one run'),
    parser: parserSchema,
  })
  .strict();
export type SshItem = z.infer<typeof sshItemSchema>;

export const HTTP_MEASURES = ['response_time', 'tls_days_left', 'json'] as const;
export const httpItemSchema = z
  .object({
    source: z.literal('http').describe("Measured by the host's http probe in the same check (response time, certificate), or a number from a JSON body"),
    ...common,
    measure: z.enum(HTTP_MEASURES).describe("response_time: the http probe's, in ms (scale 0.001 for seconds); tls_days_left: its certificate's days left; json: a number from a JSON body at path"),
    path: valuePathSchema.optional().describe('json: where the number is'),
    url: z
      .url({ protocol: /^https?$/ })
      .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), 'must not contain user:password@: value templates are readable by every read token')
      .optional()
      .describe("json: the URL to GET (default: the host's http probe URL); no credentials in it"),
  })
  .strict()
  .refine((i) => (i.measure === 'json') === (i.path !== undefined), 'path is needed for measure json, and only for it')
  .refine((i) => i.url === undefined || i.measure === 'json', 'url is only for measure json');
export type HttpItem = z.infer<typeof httpItemSchema>;

export const itemSchema = z.discriminatedUnion('source', [snmpItemSchema, sshItemSchema, httpItemSchema]);
export type Item = z.infer<typeof itemSchema>;

export const itemsSchema = z
  .array(itemSchema)
  .min(1)
  .max(100)
  .refine((items) => new Set(items.map((i) => i.name)).size === items.length, 'item names must be distinct within a template');

const templateNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lower-case letters, digits, dot, dash or underscore (max 64)')
  .describe('Template name, e.g. linux-snmp');

export const templateInputSchema = z
  .object({
    name: templateNameSchema,
    description: z.string().max(1000).default(''),
    sys_object_ids: z.array(oidSchema).max(32).default([]).describe('SNMP sysObjectID prefixes the template fits'),
    items: itemsSchema,
  })
  .strict();
export type TemplateInput = z.infer<typeof templateInputSchema>;

/** One reading of an item: one per table row, labelled by the row. */
export interface Sample {
  template: string;
  item: string;
  unit: string;
  kind: ItemKind;
  /** Row label (label column value or index) for table items; null for scalars. */
  row: string | null;
  value: number;
  /** Counters only: increase per second since the previous check; null on the first reading or after a reset. */
  rate?: number | null;
}

/** An item with the template it came from, as the worker collects it. */
export interface AssignedItem {
  template: string;
  item: Item;
}
