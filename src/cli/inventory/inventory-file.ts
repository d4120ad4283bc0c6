import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { groupParams, groupUpdateSchema, hostCreateSchema } from '../../api/schemas.ts';
import { usageError } from '../errors.ts';

/**
 * The inventory file of `vigil apply` / `vigil export-inventory`: YAML (or JSON, which YAML reads)
 *
 *   groups:                       # optional; settings left out are left as they are
 *     - name: site-a
 *       max_concurrent_checks: 4
 *       maintenance: false
 *   hosts:                        # the fleet; fields left out take the API's defaults
 *     - name: web-01
 *       address: 10.0.0.5
 *       group: site-a
 *       tags: [web]
 *       probes:
 *         - { type: tcp, port: 22 }
 *         - { type: snmp, credential: snmp-ro }   # a credential by name, never a secret
 *
 * Each host and group is validated with the API's own schemas (HostCreate, GroupUpdate), so a file
 * that passes here passes the API; errors name the file, the line and the field.
 */

/** A host as declared: the API's HostCreate, with credential names still to be resolved to ids. */
export interface InventoryHost {
  body: z.output<typeof hostCreateSchema>;
  /** Probe index → credential name, for probes that reference one. */
  credentialNames: Map<number, string>;
  /** Line of the entry in the file, for later errors (unknown credential). */
  line: number;
}

export interface InventoryGroup {
  name: string;
  settings: { max_concurrent_checks?: number; maintenance?: boolean };
  line: number;
}

export interface Inventory {
  file: string;
  hosts: InventoryHost[];
  groups: InventoryGroup[];
}

/** Stands in for a credential id while the rest of a probe is validated; replaced before anything is sent. */
const PLACEHOLDER_ID = '00000000-0000-4000-8000-000000000000';
/** What the API shows in place of a secret-looking header value: writing it back would store the mask. */
const MASK = '********';

const topSchema = z
  .object({
    version: z.literal(1).optional().describe('Format version'),
    groups: z.array(z.unknown()).default([]),
    hosts: z.array(z.unknown()).default([]),
  })
  .strict();

const groupEntry = z.object({ name: groupParams.shape.group }).catchall(z.unknown());
const probeWithCredential = z.object({ credential: z.string().trim().min(1).max(255) }).catchall(z.unknown());

interface Issue {
  path: (string | number)[];
  message: string;
}

export function parseInventory(file: string, text: string): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (path: (string | number)[]) => locate(doc, lineCounter, path);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw usageError(`${file}:${lineCounter.linePos(e.pos[0]).line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const top = topSchema.safeParse(doc.toJS() ?? {});
  if (!top.success) throw fileError(file, lineOf, top.error.issues.map(issueOf([])));
  const issues: Issue[] = [];
  const groups = top.data.groups.flatMap((raw, i) => parseGroup(raw, i, issues, lineOf));
  const hosts = top.data.hosts.flatMap((raw, i) => parseHost(raw, i, issues, lineOf));
  issues.push(...duplicates(hosts.map((h) => h.body.name), 'hosts'), ...duplicates(groups.map((g) => g.name), 'groups'));
  if (issues.length > 0) throw fileError(file, lineOf, issues);
  return { file, hosts, groups };
}

function parseGroup(raw: unknown, i: number, issues: Issue[], lineOf: (p: (string | number)[]) => number): InventoryGroup[] {
  const entry = groupEntry.safeParse(raw);
  if (!entry.success) {
    issues.push(...entry.error.issues.map(issueOf(['groups', i])));
    return [];
  }
  const { name, ...rest } = entry.data;
  if (Object.keys(rest).length === 0) return [{ name, settings: {}, line: lineOf(['groups', i]) }];
  const settings = groupUpdateSchema.safeParse(rest);
  if (!settings.success) {
    issues.push(...settings.error.issues.map(issueOf(['groups', i])));
    return [];
  }
  return [{ name, settings: settings.data, line: lineOf(['groups', i]) }];
}

function parseHost(raw: unknown, i: number, issues: Issue[], lineOf: (p: (string | number)[]) => number): InventoryHost[] {
  const credentialNames = new Map<number, string>();
  const probes = (raw as { probes?: unknown } | null)?.probes;
  const candidate = Array.isArray(probes)
    ? {
        ...(raw as object),
        probes: probes.map((p, j) => {
          const ref = probeWithCredential.safeParse(p);
          if (!ref.success) return p;
          const { credential, ...probe } = ref.data;
          credentialNames.set(j, credential);
          return { ...probe, credential_id: PLACEHOLDER_ID };
        }),
      }
    : raw;
  const host = hostCreateSchema.safeParse(candidate);
  // An error about the stand-in id is about the file's `credential` field.
  const rename = (path: (string | number)[]) => path.map((k) => (k === 'credential_id' ? 'credential' : k));
  if (!host.success) {
    issues.push(...host.error.issues.map(issueOf(['hosts', i])).map((is) => ({ ...is, path: rename(is.path) })));
    return [];
  }
  host.data.probes.forEach((p, j) => {
    const masked = Object.entries((p as { headers?: Record<string, string> }).headers ?? {}).find(([, v]) => v === MASK);
    if (masked) issues.push({ path: ['hosts', i, 'probes', j, 'headers', masked[0]], message: 'is the mask the API shows for secrets: put the secret in a credential and reference it with `credential: NAME`' });
  });
  return [{ body: host.data, credentialNames, line: lineOf(['hosts', i]) }];
}

function duplicates(names: string[], section: string): Issue[] {
  const first = new Map<string, number>();
  return names.flatMap((n, i) => {
    const f = first.get(n);
    if (f === undefined) {
      first.set(n, i);
      return [];
    }
    return [{ path: [section, i, 'name'], message: `duplicate of ${section}.${f}.name (${JSON.stringify(n)})` }];
  });
}

const issueOf = (prefix: (string | number)[]) => (i: z.core.$ZodIssue): Issue => {
  const path = [...prefix, ...(i.path as (string | number)[])];
  // Unknown keys are reported on their object; point at the first key instead.
  if (i.code === 'unrecognized_keys') return { path: [...path, i.keys[0]!], message: `unknown field (allowed: see the API's schema)` };
  return { path, message: i.message };
};

function fileError(file: string, lineOf: (p: (string | number)[]) => number, issues: Issue[]) {
  const lines = issues.slice(0, 50).map((i) => `${file}:${lineOf(i.path)}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  const more = issues.length > 50 ? `\n… and ${issues.length - 50} more` : '';
  return usageError(`${file} is not a valid inventory:\n${lines.join('\n')}${more}`);
}

/** The line of the deepest node on `path` that the file has (a missing field: its object's line). */
function locate(doc: Document, counter: LineCounter, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}

export { PLACEHOLDER_ID };
