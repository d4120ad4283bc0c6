import { getHost } from '../db/queries/hosts.ts';
import {
  autoDetectPending,
  setAutoDetect,
  deleteTemplate,
  existingTemplateIds,
  getTemplate,
  groupTemplates,
  hostTemplates,
  insertTemplate,
  latestValues,
  listTemplates,
  replaceTemplate,
  setGroupTemplates,
  setHostTemplates,
  type TemplateRow,
} from '../db/queries/value-templates.ts';
import { SQLSTATE, sqlState } from '../db/sqlstate.ts';
import { withTransaction } from '../db/transaction.ts';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import { templateInputSchema } from '../values/items.ts';
import { TEMPLATE_LIBRARY } from '../values/library.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { groupParams, hostIdParams, problemSchema } from './schemas.ts';
import { VALUE_EXAMPLES as EX } from './value-templates-examples.ts';
import {
  assignedTemplatesSchema,
  groupTemplatesSchema,
  templateAssignSchema,
  templateCreateSchema,
  templateIdParams,
  templateLibrarySchema,
  libraryNameParams,
  templateListSchema,
  templatePatchSchema,
  templateSchema,
} from './value-templates-schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['values'];

function serializeTemplate(row: TemplateRow) {
  return { ...row, items: row.items as Record<string, unknown>[], created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/** A second template of the same name is a conflict, not a 500. */
async function nameUnique<T>(name: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (sqlState(err) === SQLSTATE.uniqueViolation) throw conflict(`a value template named ${JSON.stringify(name)} already exists`);
    throw err;
  }
}

/** Value templates (named sets of items a check collects) and their assignment to hosts and groups. */
export function valueTemplateRoutes(deps: ApiDeps): RouteSpec[] {
  // The library's paths before /{template_id}: express matches in order.
  return [...library(deps), ...templateCrud(deps), ...assignment(deps)];
}

function library({ pool }: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/value-templates/library',
      operationId: 'listValueTemplateLibrary',
      summary: 'The templates Vigil ships (Net-SNMP on Linux, Linux over SSH), ready to install',
      tags: TAGS,
      examples: { responses: { 200: [EX.library] } },
      responses: { 200: { description: 'Shipped templates', schema: templateLibrarySchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { templates: [...TEMPLATE_LIBRARY.values()] } }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/value-templates/library/{name}',
      operationId: 'installValueTemplate',
      summary: 'Install a shipped template under its name (then change it like any other)',
      tags: TAGS,
      params: libraryNameParams,
      examples: { responses: { 201: [EX.template] } },
      responses: { 201: { description: 'Installed', schema: templateSchema }, 400: problem('Malformed name'), 404: problem('No such shipped template'), 409: problem('A template of that name exists') },
      handler: async ({ params }) => {
        const shipped = TEMPLATE_LIBRARY.get(params.name);
        if (!shipped) throw notFound('shipped value template');
        const row = await nameUnique(shipped.name, insertTemplate(pool, { name: shipped.name, description: shipped.description, sysObjectIds: shipped.sys_object_ids, items: shipped.items }));
        return { status: 201, body: serializeTemplate(row) };
      },
    }),
  ];
}

function templateCrud({ pool }: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/value-templates',
      operationId: 'listValueTemplates',
      summary: 'Every value template',
      tags: TAGS,
      examples: { responses: { 200: [EX.list] } },
      responses: { 200: { description: 'All templates', schema: templateListSchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { templates: (await listTemplates(pool)).map(serializeTemplate) } }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/value-templates',
      operationId: 'createValueTemplate',
      summary: 'Create a value template',
      tags: TAGS,
      body: templateCreateSchema,
      examples: { request: [EX.create], responses: { 201: [EX.template] } },
      responses: { 201: { description: 'Created', schema: templateSchema }, 400: problem('Invalid body'), 409: problem('Name taken') },
      handler: async ({ body }) => {
        const row = await nameUnique(body.name, insertTemplate(pool, { name: body.name, description: body.description, sysObjectIds: body.sys_object_ids, items: body.items }));
        return { status: 201, body: serializeTemplate(row) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/value-templates/{template_id}',
      operationId: 'getValueTemplate',
      summary: 'One value template',
      tags: TAGS,
      params: templateIdParams,
      examples: { responses: { 200: [EX.template] } },
      responses: { 200: { description: 'The template', schema: templateSchema }, 400: problem('Malformed id'), 404: problem('No such template') },
      handler: async ({ params }) => {
        const row = await getTemplate(pool, params.template_id);
        if (!row) throw notFound('value template');
        return { status: 200, body: serializeTemplate(row) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/value-templates/{template_id}',
      operationId: 'updateValueTemplate',
      summary: 'Change a value template (hosts using it collect the new items from their next check)',
      tags: TAGS,
      params: templateIdParams,
      body: templatePatchSchema,
      examples: { request: [EX.patch], responses: { 200: [EX.template] } },
      responses: { 200: { description: 'The template', schema: templateSchema }, 400: problem('Invalid body'), 404: problem('No such template'), 409: problem('Name taken') },
      handler: async ({ params, body }) => {
        const current = await getTemplate(pool, params.template_id);
        if (!current) throw notFound('value template');
        const parsed = templateInputSchema.safeParse({ name: body.name ?? current.name, description: body.description ?? current.description, sys_object_ids: body.sys_object_ids ?? current.sys_object_ids, items: body.items ?? current.items });
        if (!parsed.success) throw badRequest('the template after this change is invalid', parsed.error.issues.map((i) => ({ field: ['body', ...i.path].join('.'), message: i.message })));
        const merged = parsed.data;
        const row = await nameUnique(merged.name, replaceTemplate(pool, params.template_id, { name: merged.name, description: merged.description, sysObjectIds: merged.sys_object_ids, items: merged.items }));
        if (!row) throw notFound('value template');
        return { status: 200, body: serializeTemplate(row) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/value-templates/{template_id}',
      operationId: 'deleteValueTemplate',
      summary: 'Delete a value template (and its assignments)',
      tags: TAGS,
      params: templateIdParams,
      responses: { 204: { description: 'Deleted' }, 400: problem('Malformed id'), 404: problem('No such template') },
      handler: async ({ params }) => {
        if (!(await deleteTemplate(pool, params.template_id))) throw notFound('value template');
        return { status: 204 };
      },
    }),
  ];
}

async function assignedBody(pool: ApiDeps['pool'], hostId: string) {
  const [templates, latest, pending] = await Promise.all([hostTemplates(pool, hostId), latestValues(pool, hostId), autoDetectPending(pool, hostId)]);
  return { templates, latest_values: latest as never, auto_detect_pending: pending };
}

/** Unknown template ids are the caller's mistake, named. */
function missingIds(wanted: string[], found: Set<string>): void {
  const missing = wanted.filter((id) => !found.has(id));
  if (missing.length > 0) throw badRequest(`no value template with id ${missing.join(', ')}`, [{ field: 'body.template_ids', message: `unknown: ${missing.join(', ')}` }]);
}

function assignment({ pool }: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/hosts/{host_id}/value-templates',
      operationId: 'getHostValueTemplates',
      summary: "A host's value templates (its own and its group's) and its latest values",
      tags: TAGS,
      params: hostIdParams,
      examples: { responses: { 200: [EX.assigned] } },
      responses: { 200: { description: 'Templates and latest values', schema: assignedTemplatesSchema }, 400: problem('Malformed id'), 404: problem('No such host') },
      handler: async ({ params }) => {
        if (!(await getHost(pool, params.host_id))) throw notFound('host');
        return { status: 200, body: await assignedBody(pool, params.host_id) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/hosts/{host_id}/value-templates',
      operationId: 'setHostValueTemplates',
      summary: 'Set the templates assigned to a host itself (its group\'s apply as well)',
      tags: TAGS,
      params: hostIdParams,
      body: templateAssignSchema,
      examples: { request: [EX.assign], responses: { 200: [EX.assigned] } },
      responses: { 200: { description: 'Templates and latest values', schema: assignedTemplatesSchema }, 400: problem('Invalid body or unknown template'), 404: problem('No such host') },
      handler: async ({ params, body }) => {
        await withTransaction(pool, async (tx) => {
          if (!(await getHost(tx, params.host_id))) throw notFound('host');
          missingIds(body.template_ids, await existingTemplateIds(tx, body.template_ids));
          await setHostTemplates(tx, params.host_id, body.template_ids);
          if (body.auto_detect !== undefined) await setAutoDetect(tx, params.host_id, body.auto_detect);
        });
        return { status: 200, body: await assignedBody(pool, params.host_id) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/groups/{group}/value-templates',
      operationId: 'setGroupValueTemplates',
      summary: 'Set the templates assigned to every host of a group',
      tags: TAGS,
      params: groupParams,
      body: templateAssignSchema,
      examples: { request: [EX.assign], responses: { 200: [EX.groupAssigned] } },
      responses: { 200: { description: "The group's templates", schema: groupTemplatesSchema }, 400: problem('Invalid body or unknown template') },
      handler: async ({ params, body }) => {
        if (body.auto_detect !== undefined) throw badRequest('auto_detect is per host', [{ field: 'body.auto_detect', message: 'set it on each host (POST /api/hosts/{host_id}/value-templates)' }]);
        await withTransaction(pool, async (tx) => {
          missingIds(body.template_ids, await existingTemplateIds(tx, body.template_ids));
          await setGroupTemplates(tx, params.group, body.template_ids);
        });
        return { status: 200, body: { group: params.group, templates: await groupTemplates(pool, params.group) } };
      },
    }),
  ];
}
