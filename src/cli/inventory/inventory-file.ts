import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { bulkHostSchema } from '../../api/inventory-schemas.ts';
import { windowCreateSchema } from '../../api/maintenance-window-schemas.ts';
import { channelCreateSchema, ruleCreateSchema } from '../../api/notification-schemas.ts';
import { policyCreateSchema } from '../../api/policy-schemas.ts';
import { groupParams, groupUpdateSchema } from '../../api/schemas.ts';
import { CHANNEL_TYPES, SECRET_FIELDS, type ChannelType } from '../../notifications/channel-config.ts';
import { usageError } from '../errors.ts';
import { SECTIONS, type Section } from './inventory-sections-names.ts';

/**
 * The inventory file of `vigil apply` / `vigil export-inventory`: YAML (or JSON, which YAML reads)
 *
 *   policies:                     # optional; named check policies (the file is their whole definition)
 *     - name: core
 *       settings: { check_timeout_ms: 5000, states: { HEALTHY: { interval_seconds: 30 } } }
 *   groups:                       # optional; settings left out are left as they are
 *     - name: site-a
 *       max_concurrent_checks: 4
 *       maintenance: false
 *       policy: core              # a policy by name (null: none)
 *       gateway: olt-1            # a host by name every member depends on (null: none)
 *   hosts:                        # the fleet; fields left out take the API's defaults
 *     - name: web-01
 *       address: 10.0.0.5
 *       group: site-a
 *       tags: [web]
 *       policy: core              # a policy by name
 *       depends_on: [sw-1]        # parents by name (left out: the parents it has are kept)
 *       probes:
 *         - { type: tcp, port: 22 }
 *         - { type: snmp, credential: snmp-ro }   # a credential by name, never a secret
 *   maintenance_windows:          # optional; identified by label
 *     - { label: patch night, cron: "0 2 * * 0", duration_seconds: 3600, time_zone: Europe/Berlin, groups: [site-a] }
 *   notification_channels:        # optional; secrets only as environment variable names
 *     - { name: ops-slack, type: slack, config: { url: { env: SLACK_WEBHOOK_URL } } }
 *   notification_rules:           # optional; channels and hosts by name
 *     - { name: page-down, channels: [ops-slack], states: [DOWN] }
 *
 * Each entry is validated with the API's own schemas (the bulk HostCreate, GroupUpdate, PolicyCreate,
 * MaintenanceWindowCreate, NotificationChannelCreate, NotificationRuleCreate), references by name
 * standing in for the ids the API takes, so a file that passes here passes the API; errors name
 * the file, the line and the field.
 */

/** A host as declared: the bulk API's host, with credential and policy names still to be resolved to ids. */
export interface InventoryHost {
  body: z.output<typeof bulkHostSchema>;
  /** Probe index → credential name, for probes that reference one. */
  credentialNames: Map<number, string>;
  /** The policy by name: undefined = none given (no policy), as on create. */
  policy: string | null | undefined;
  /** Line of the entry in the file, for later errors (unknown credential). */
  line: number;
}

export interface InventoryGroup {
  name: string;
  settings: { max_concurrent_checks?: number; maintenance?: boolean };
  /** Policy name (null: none; undefined: left as it is). */
  policy: string | null | undefined;
  /** Gateway host name (null: none; undefined: left as it is). */
  gateway: string | null | undefined;
  line: number;
}

export interface InventoryPolicy {
  body: z.output<typeof policyCreateSchema>;
  line: number;
}

export interface InventoryWindow {
  /** The API's window, `hosts` still as names. */
  body: Omit<z.output<typeof windowCreateSchema>, 'hosts'>;
  hosts: string[];
  line: number;
}

/** A secret field of a channel: the environment variable that holds it, and its value if set. */
export interface ChannelSecret {
  env: string;
  value: string | undefined;
}

export interface InventoryChannel {
  name: string;
  type: ChannelType;
  /** The configuration without its secret fields, defaults applied (as the API stores it). */
  config: Record<string, unknown>;
  secrets: Map<string, ChannelSecret>;
  enabled: boolean;
  rate_limit_per_minute: number;
  line: number;
}

export interface InventoryRule {
  body: Omit<z.output<typeof ruleCreateSchema>, 'channel_ids' | 'host_ids'>;
  channels: string[];
  hosts: string[];
  line: number;
}


export interface Inventory {
  file: string;
  hosts: InventoryHost[];
  groups: InventoryGroup[];
  policies: InventoryPolicy[];
  windows: InventoryWindow[];
  channels: InventoryChannel[];
  rules: InventoryRule[];
  /** The sections the file declares (an empty list declares "none": --prune deletes them all). */
  declared: Set<Section>;
  /** Where a problem found later (an unknown name) is reported. */
  lineOf: (path: (string | number)[]) => number;
}

/** Stands in for an id while the rest of an entry is validated; replaced before anything is sent. */
const PLACEHOLDER_ID = '00000000-0000-4000-8000-000000000000';
/** What the API shows in place of a secret-looking header value: writing it back would store the mask. */
const MASK = '********';
/** Valid stand-ins for secret channel fields whose environment variable is not set (a dry run needs none). */
const SECRET_STANDIN: Record<string, string> = { url: 'https://secret.invalid/', routing_key: 'a'.repeat(32), secret: 'x'.repeat(32), password: 'x' };

const topSchema = z
  .object({
    version: z.literal(1).optional().describe('Format version'),
    groups: z.array(z.unknown()).default([]),
    hosts: z.array(z.unknown()).default([]),
    policies: z.array(z.unknown()).optional(),
    maintenance_windows: z.array(z.unknown()).optional(),
    notification_channels: z.array(z.unknown()).optional(),
    notification_rules: z.array(z.unknown()).optional(),
  })
  .strict();

const groupEntry = z.object({ name: groupParams.shape.group }).catchall(z.unknown());
const probeWithCredential = z.object({ credential: z.string().trim().min(1).max(255) }).catchall(z.unknown());
const refName = z.string().trim().min(1).max(255);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const secretRef = z.object({ env: envName }).strict();

interface Issue {
  path: (string | number)[];
  message: string;
}

type LineOf = (p: (string | number)[]) => number;

export function parseInventory(file: string, text: string, env: NodeJS.ProcessEnv = process.env): Inventory {
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
  const t = top.data;
  const declared = new Set(SECTIONS.filter((s) => t[s] !== undefined));
  const groups = t.groups.flatMap((raw, i) => parseGroup(raw, i, issues, lineOf));
  const hosts = t.hosts.flatMap((raw, i) => parseHost(raw, i, issues, lineOf));
  const policies = (t.policies ?? []).flatMap((raw, i) => parseWith(policyCreateSchema, raw, ['policies', i], issues).map((body) => ({ body, line: lineOf(['policies', i]) })));
  const windows = (t.maintenance_windows ?? []).flatMap((raw, i) => parseWindow(raw, i, issues, lineOf));
  const channels = (t.notification_channels ?? []).flatMap((raw, i) => parseChannel(raw, i, issues, lineOf, env));
  const rules = (t.notification_rules ?? []).flatMap((raw, i) => parseRule(raw, i, issues, lineOf));
  issues.push(
    ...duplicates(hosts.map((h) => h.body.name), 'hosts'),
    ...duplicates(groups.map((g) => g.name), 'groups'),
    ...duplicates(policies.map((p) => p.body.name), 'policies'),
    ...duplicates(windows.map((w) => w.body.label), 'maintenance_windows', 'label'),
    ...duplicates(channels.map((c) => c.name), 'notification_channels'),
    ...duplicates(rules.map((r) => r.body.name), 'notification_rules'),
  );
  if (issues.length > 0) throw fileError(file, lineOf, issues);
  return { file, hosts, groups, policies, windows, channels, rules, declared, lineOf };
}

/** Validates `raw` with `schema`; issues are collected under `prefix`. */
function parseWith<S extends z.ZodType>(schema: S, raw: unknown, prefix: (string | number)[], issues: Issue[], rename: Record<string, string> = {}): z.output<S>[] {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return [parsed.data];
  issues.push(...parsed.error.issues.map(issueOf(prefix)).map((is) => ({ ...is, path: is.path.map((k) => (typeof k === 'string' && rename[k] ? rename[k] : k)) })));
  return [];
}

interface RefSpec {
  /** The file's field, holding names. */
  file: string;
  /** The API's field, holding ids. */
  api: string;
  many: boolean;
}

/**
 * Replaces the file's reference fields (names) by stand-in ids in the API's fields, so the API's
 * schema validates the rest; the API's id fields are refused (a file names things, ids differ between installs).
 */
function substituteRefs(raw: unknown, specs: RefSpec[], prefix: (string | number)[], issues: Issue[]): { candidate: unknown; refs: Record<string, unknown> } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { candidate: raw, refs: {} };
  const candidate: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const refs: Record<string, unknown> = {};
  for (const spec of specs) {
    if (spec.api in candidate) issues.push({ path: [...prefix, spec.api], message: `ids differ between installs: name them with \`${spec.file}\`` });
    if (!(spec.file in candidate)) continue;
    const value = candidate[spec.file];
    delete candidate[spec.file];
    const schema = spec.many ? z.array(refName) : refName.nullable();
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      issues.push(...parsed.error.issues.map(issueOf([...prefix, spec.file])));
      continue;
    }
    refs[spec.file] = parsed.data;
    candidate[spec.api] = Array.isArray(parsed.data) ? parsed.data.map(() => PLACEHOLDER_ID) : parsed.data === null ? null : PLACEHOLDER_ID;
  }
  return { candidate, refs };
}

const renames = (specs: RefSpec[]) => Object.fromEntries(specs.map((s) => [s.api, s.file]));

const GROUP_REFS: RefSpec[] = [
  { file: 'policy', api: 'policy_id', many: false },
  { file: 'gateway', api: 'gateway_host_id', many: false },
];

function parseGroup(raw: unknown, i: number, issues: Issue[], lineOf: LineOf): InventoryGroup[] {
  const entry = groupEntry.safeParse(raw);
  if (!entry.success) {
    issues.push(...entry.error.issues.map(issueOf(['groups', i])));
    return [];
  }
  const { name, ...rest } = entry.data;
  const line = lineOf(['groups', i]);
  if (Object.keys(rest).length === 0) return [{ name, settings: {}, policy: undefined, gateway: undefined, line }];
  const before = issues.length;
  const { candidate, refs } = substituteRefs(rest, GROUP_REFS, ['groups', i], issues);
  const settings = parseWith(groupUpdateSchema, candidate, ['groups', i], issues, renames(GROUP_REFS));
  if (settings.length === 0 || issues.length > before) return [];
  const { max_concurrent_checks, maintenance } = settings[0]!;
  return [
    {
      name,
      settings: { ...(max_concurrent_checks !== undefined ? { max_concurrent_checks } : {}), ...(maintenance !== undefined ? { maintenance } : {}) },
      policy: refs.policy as string | null | undefined,
      gateway: refs.gateway as string | null | undefined,
      line,
    },
  ];
}

const HOST_REFS: RefSpec[] = [{ file: 'policy', api: 'policy_id', many: false }];

function parseHost(raw: unknown, i: number, issues: Issue[], lineOf: LineOf): InventoryHost[] {
  const credentialNames = new Map<number, string>();
  const before = issues.length;
  const { candidate: withPolicy, refs } = substituteRefs(raw, HOST_REFS, ['hosts', i], issues);
  const probes = (withPolicy as { probes?: unknown } | null)?.probes;
  const candidate = Array.isArray(probes)
    ? {
        ...(withPolicy as object),
        probes: probes.map((p, j) => {
          const ref = probeWithCredential.safeParse(p);
          if (!ref.success) return p;
          const { credential, ...probe } = ref.data;
          credentialNames.set(j, credential);
          return { ...probe, credential_id: PLACEHOLDER_ID };
        }),
      }
    : withPolicy;
  // An error about a stand-in id is about the file's `credential` or `policy` field.
  const host = parseWith(bulkHostSchema, candidate, ['hosts', i], issues, { credential_id: 'credential', policy_id: 'policy' });
  if (host.length === 0 || issues.length > before) return [];
  host[0]!.probes.forEach((p, j) => {
    const masked = Object.entries((p as { headers?: Record<string, string> }).headers ?? {}).find(([, v]) => v === MASK);
    if (masked) issues.push({ path: ['hosts', i, 'probes', j, 'headers', masked[0]], message: 'is the mask the API shows for secrets: put the secret in a credential and reference it with `credential: NAME`' });
  });
  return [{ body: host[0]!, credentialNames, policy: refs.policy as string | null | undefined, line: lineOf(['hosts', i]) }];
}

function parseWindow(raw: unknown, i: number, issues: Issue[], lineOf: LineOf): InventoryWindow[] {
  // `hosts` keeps its name: the file lists host names where the API takes ids.
  const hosts = (raw as { hosts?: unknown } | null)?.hosts;
  const names = hosts === undefined ? [] : z.array(refName).safeParse(hosts);
  if (!Array.isArray(names) && !names.success) {
    issues.push(...names.error.issues.map(issueOf(['maintenance_windows', i, 'hosts'])));
    return [];
  }
  const hostNames = Array.isArray(names) ? names : names.data;
  const candidate = raw !== null && typeof raw === 'object' ? { ...(raw as object), hosts: hostNames.map(() => PLACEHOLDER_ID) } : raw;
  return parseWith(windowCreateSchema, candidate, ['maintenance_windows', i], issues).map(({ hosts: _ids, ...body }) => ({ body, hosts: hostNames, line: lineOf(['maintenance_windows', i]) }));
}

function parseChannel(raw: unknown, i: number, issues: Issue[], lineOf: LineOf, env: NodeJS.ProcessEnv): InventoryChannel[] {
  const prefix = ['notification_channels', i];
  const type = (raw as { type?: unknown } | null)?.type;
  const config = (raw as { config?: unknown } | null)?.config;
  const secrets = new Map<string, ChannelSecret>();
  let candidate = raw;
  const before = issues.length;
  if (CHANNEL_TYPES.includes(type as ChannelType) && config !== null && typeof config === 'object' && !Array.isArray(config)) {
    const withSecrets: Record<string, unknown> = { ...(config as Record<string, unknown>) };
    for (const field of SECRET_FIELDS[type as ChannelType]) {
      if (!(field in withSecrets)) continue;
      const ref = secretRef.safeParse(withSecrets[field]);
      if (!ref.success) {
        if (typeof withSecrets[field] === 'string') {
          issues.push({ path: [...prefix, 'config', field], message: 'is a secret: never in the file; write `{ env: VARIABLE }` and put the value in that environment variable' });
        } else issues.push(...ref.error.issues.map(issueOf([...prefix, 'config', field])));
        continue;
      }
      const value = env[ref.data.env];
      secrets.set(field, { env: ref.data.env, value: value === '' ? undefined : value });
      withSecrets[field] = value || SECRET_STANDIN[field];
    }
    candidate = { ...(raw as object), config: withSecrets };
  }
  const parsed = parseWith(channelCreateSchema, candidate, prefix, issues);
  if (parsed.length === 0 || issues.length > before) return [];
  const c = parsed[0]!;
  const settings = Object.fromEntries(Object.entries(c.config as Record<string, unknown>).filter(([k, v]) => v !== undefined && !SECRET_FIELDS[c.type].includes(k)));
  return [{ name: c.name, type: c.type, config: settings, secrets, enabled: c.enabled, rate_limit_per_minute: c.rate_limit_per_minute, line: lineOf(prefix) }];
}

const RULE_REFS: RefSpec[] = [
  { file: 'channels', api: 'channel_ids', many: true },
  { file: 'hosts', api: 'host_ids', many: true },
];

function parseRule(raw: unknown, i: number, issues: Issue[], lineOf: LineOf): InventoryRule[] {
  const prefix = ['notification_rules', i];
  const before = issues.length;
  const { candidate, refs } = substituteRefs(raw, RULE_REFS, prefix, issues);
  const parsed = parseWith(ruleCreateSchema, candidate, prefix, issues, renames(RULE_REFS));
  if (parsed.length === 0 || issues.length > before) return [];
  const { channel_ids: _c, host_ids: _h, ...body } = parsed[0]!;
  return [{ body, channels: (refs.channels as string[] | undefined) ?? [], hosts: (refs.hosts as string[] | undefined) ?? [], line: lineOf(prefix) }];
}

function duplicates(names: string[], section: string, key = 'name'): Issue[] {
  const first = new Map<string, number>();
  return names.flatMap((n, i) => {
    const f = first.get(n);
    if (f === undefined) {
      first.set(n, i);
      return [];
    }
    return [{ path: [section, i, key], message: `duplicate of ${section}.${f}.${key} (${JSON.stringify(n)})` }];
  });
}

const issueOf = (prefix: (string | number)[]) => (i: z.core.$ZodIssue): Issue => {
  const path = [...prefix, ...(i.path as (string | number)[])];
  // Unknown keys are reported on their object; point at the first key instead.
  if (i.code === 'unrecognized_keys') return { path: [...path, i.keys[0]!], message: `unknown field (allowed: see the API's schema)` };
  return { path, message: i.message };
};

function fileError(file: string, lineOf: LineOf, issues: Issue[]) {
  const lines = issues.slice(0, 50).map((i) => `${file}:${lineOf(i.path)}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  const more = issues.length > 50 ? `\n… and ${issues.length - 50} more` : '';
  return usageError(`${file} is not a valid inventory:\n${lines.join('\n')}${more}`);
}

/** An error about one field of an entry found after parsing (an unknown name), with its line. */
export function entryError(inv: Inventory, path: (string | number)[], message: string) {
  return usageError(`${inv.file}:${inv.lineOf(path)}: ${path.join('.')}: ${message}`);
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
