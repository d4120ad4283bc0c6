import type { z } from 'zod';
import type { ApiExample } from './route.ts';
import type { assignedTemplatesSchema, groupTemplatesSchema, templateAssignSchema, templateCreateSchema, templateListSchema, templatePatchSchema, templateSchema } from './value-templates-schemas.ts';

/** openapi.yaml examples of the value-template operations, typed by their schemas. */

const TEMPLATE_ID = '5b0f1f7e-2d9c-4c41-9a47-0f6f0d1c8e21';
const AT = '2026-05-04T10:00:00.412Z';

const items: z.input<typeof templateCreateSchema>['items'] = [
  { source: 'snmp', name: 'load_1m', unit: '', kind: 'gauge', scale: 0.01, oid: '1.3.6.1.4.1.2021.10.1.5.1', threshold: { above: 8 } },
  { source: 'snmp', name: 'if_in_octets', unit: 'bytes', kind: 'counter', scale: 1, column: '1.3.6.1.2.1.2.2.1.10', label_column: '1.3.6.1.2.1.2.2.1.2', max_rows: 1000 },
];

const create: z.input<typeof templateCreateSchema> = { name: 'linux-snmp', description: 'Load and interface traffic of a Linux host through Net-SNMP', items };
const template: z.output<typeof templateSchema> = { id: TEMPLATE_ID, name: 'linux-snmp', description: create.description!, sys_object_ids: ['1.3.6.1.4.1.8072.3.2.10'], items: items as Record<string, unknown>[], created_at: AT, updated_at: AT };
const list: z.output<typeof templateListSchema> = { templates: [template] };
const patch: z.input<typeof templatePatchSchema> = { description: 'Load and traffic (threshold raised)' };
const assign: z.input<typeof templateAssignSchema> = { template_ids: [TEMPLATE_ID] };
const assigned: z.output<typeof assignedTemplatesSchema> = {
  templates: [{ id: TEMPLATE_ID, name: 'linux-snmp', via: 'host' }],
  latest_values: {
    collected_at: AT,
    samples: [
      { template: 'linux-snmp', item: 'load_1m', unit: '', kind: 'gauge', row: null, value: 0.42 },
      { template: 'linux-snmp', item: 'if_in_octets', unit: 'bytes', kind: 'counter', row: 'eth0', value: 918273645, rate: 12500.5 },
    ],
  },
  auto_detect_pending: false,
};
const groupAssigned: z.output<typeof groupTemplatesSchema> = { group: 'olt-7', templates: [{ id: TEMPLATE_ID, name: 'linux-snmp', via: 'group' }] };

const library = { templates: [{ name: create.name, description: create.description!, sys_object_ids: [], items: items as Record<string, unknown>[] }] };

const ex = (name: string, summary: string, value: unknown): ApiExample => ({ name, summary, value });

export const VALUE_EXAMPLES = {
  create: ex('ValueTemplateCreate', 'SNMP load with a threshold and the interface traffic column, labelled by ifDescr', create),
  library: ex('ValueTemplateLibrary', 'Shipped templates (shortened)', library),
  template: ex('ValueTemplate', 'A template', template),
  list: ex('ValueTemplateList', 'All templates', list),
  patch: ex('ValueTemplatePatch', 'Change the description only', patch),
  assign: ex('ValueTemplateAssign', 'Assign one template', assign),
  assigned: ex('AssignedValueTemplates', "A host's templates and latest values", assigned),
  groupAssigned: ex('GroupValueTemplates', "A group's templates", groupAssigned),
};
