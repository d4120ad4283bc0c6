import { z } from 'zod';
import { itemsSchema, templateInputSchema } from '../values/items.ts';
import { apiRegistry, latestValuesSchema } from './schemas.ts';

/** Request and response shapes of the value templates and their assignment (src/values/). */

const named = <T extends z.ZodType>(id: string, schema: T): T => {
  apiRegistry.add(schema, { id });
  return schema;
};

const isoTime = z.iso.datetime({ offset: true });

export const templateIdParams = z.object({ template_id: z.uuid().describe('Value template id') }).strict();

export const templateCreateSchema = named('ValueTemplateCreate', templateInputSchema.describe('A named set of items a check collects'));

export const templatePatchSchema = named(
  'ValueTemplatePatch',
  z
    .object({
      name: templateInputSchema.shape.name.optional(),
      description: z.string().max(1000).optional(),
      sys_object_ids: templateInputSchema.shape.sys_object_ids.unwrap().optional(),
      items: itemsSchema.optional().describe('The whole new list of items (replaces the old one)'),
    })
    .strict()
    .describe('Fields to change; the others stay'),
);

export const templateSchema = named(
  'ValueTemplate',
  z.object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    sys_object_ids: z.array(z.string()),
    items: z.array(z.record(z.string(), z.unknown())).describe('Items as validated on write (see ValueTemplateCreate)'),
    created_at: isoTime,
    updated_at: isoTime,
  }),
);

export const libraryNameParams = z.object({ name: z.string().min(1).max(64).describe('Name of a shipped template') }).strict();

export const templateLibrarySchema = named(
  'ValueTemplateLibrary',
  z.object({ templates: z.array(templateInputSchema.extend({ items: z.array(z.record(z.string(), z.unknown())) })).describe('Shipped templates, as they would be installed') }),
);

export const templateListSchema = named('ValueTemplateList', z.object({ templates: z.array(templateSchema) }));

export const templateAssignSchema = named(
  'ValueTemplateAssignment',
  z
    .object({
      template_ids: z.array(z.uuid()).max(32).refine((ids) => new Set(ids).size === ids.length, 'template ids must be distinct').describe('The templates assigned (replaces the current set; [] clears it)'),
      auto_detect: z.boolean().optional().describe("Hosts only: true adds the templates whose sys_object_ids fit the host's SNMP sysObjectID, read at its next check that reaches the agent; false cancels a pending detection"),
    })
    .strict(),
);

export const assignedTemplatesSchema = named(
  'AssignedValueTemplates',
  z.object({
    templates: z.array(z.object({ id: z.uuid(), name: z.string(), via: z.enum(['host', 'group']).describe('Assigned to the host itself or through its group') })),
    latest_values: latestValuesSchema.nullable(),
    auto_detect_pending: z.boolean().describe('Waiting for the next check to choose templates by sysObjectID'),
  }),
);

export const groupTemplatesSchema = named(
  'GroupValueTemplates',
  z.object({ group: z.string(), templates: z.array(z.object({ id: z.uuid(), name: z.string(), via: z.enum(['host', 'group']) })) }),
);
