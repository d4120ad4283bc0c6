import { randomUUID } from 'node:crypto';
import type { Pool } from '../db/pool.ts';
import { getCredential, insertCredential, lockCredential, rewriteCredential, type CredentialRow } from '../db/queries/credentials.ts';
import { withTransaction } from '../db/transaction.ts';
import { AppError, badRequest, coerceError } from '../lib/errors.ts';
import { CredentialUnavailableError, type ResolvedCredential } from '../probes/types.ts';
import { open, seal } from './cipher.ts';
import { credentialFieldsByKind, snmpV3Problems, splitFields, toResolved, type CredentialKind } from './kinds.ts';

/** Names of the secret fields a credential holds, kept beside its public fields (not secret). */
const SECRETS_SET = 'secrets_set';

const noKey = () =>
  new AppError('secret_key_missing', 503, 'credentials are unavailable: this Vigil has no VIGIL_SECRET_KEY to encrypt them with');

function requireKey(key: Buffer | undefined): Buffer {
  if (!key) throw noKey();
  return key;
}

function sealed(key: Buffer, id: string, fields: Record<string, unknown>) {
  const { public: pub, secret } = splitFields(fields);
  return { public: { ...pub, [SECRETS_SET]: Object.keys(secret).sort() }, secret: seal(key, JSON.stringify(secret), id) };
}

function openSecrets(key: Buffer, row: CredentialRow): Record<string, string> {
  return JSON.parse(open(key, row.secret, row.id)) as Record<string, string>;
}

export function secretsSet(row: CredentialRow): string[] {
  return (row.public[SECRETS_SET] as string[] | undefined) ?? [];
}

export function publicFields(row: CredentialRow): Record<string, unknown> {
  const { [SECRETS_SET]: _, ...rest } = row.public;
  return rest;
}

export async function createCredential(
  pool: Pool,
  key: Buffer | undefined,
  body: { name: string; kind: CredentialKind } & Record<string, unknown>,
): Promise<CredentialRow> {
  const k = requireKey(key);
  const id = randomUUID();
  return insertCredential(pool, { id, name: body.name, kind: body.kind, ...sealed(k, id, body) });
}

/**
 * Applies a partial change: fields must belong to the credential's kind; secrets given replace
 * the stored ones, others are kept; the merged whole must still be a valid credential.
 */
export async function changeCredential(pool: Pool, key: Buffer | undefined, id: string, patch: Record<string, unknown>): Promise<CredentialRow | undefined> {
  const k = requireKey(key);
  // The row stays locked from read to rewrite, so two concurrent changes cannot lose each other's secrets.
  return withTransaction(pool, async (tx) => {
    const row = await lockCredential(tx, id);
    if (!row) return undefined;
    const kind = row.kind as CredentialKind;
    const shape = credentialFieldsByKind[kind].shape as Record<string, unknown>;
    const foreign = Object.keys(patch).filter((f) => f !== 'name' && !(f in shape));
    if (foreign.length > 0) {
      throw badRequest(`fields not used by a ${kind} credential`, foreign.map((f) => ({ field: `body.${f}`, message: `not a field of kind ${kind}` })));
    }
    const { name, ...changes } = patch;
    const merged = { ...publicFields(row), ...openSecrets(k, row), ...changes };
    const parsed = credentialFieldsByKind[kind].strict().safeParse(merged);
    const problems = parsed.success ? (kind === 'snmp-v3' ? snmpV3Problems(merged) : []) : parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    if (problems.length > 0) throw badRequest('the changed credential is incomplete', problems.map((p) => ({ ...p, field: `body.${p.field}` })));
    return rewriteCredential(tx, id, { name: (name as string | undefined) ?? row.name, ...sealed(k, id, merged) });
  });
}

/**
 * Decrypts a credential for one check. Undefined for an unknown id; CredentialUnavailableError when
 * it exists but cannot be opened here (a configuration problem the check reports). A database
 * error propagates as it is: that is Vigil's failure, not the host's.
 */
export async function resolveCredential(pool: Pool, key: Buffer | undefined, id: string): Promise<ResolvedCredential | undefined> {
  const row = await getCredential(pool, id);
  if (!row) return undefined;
  if (!key) throw new CredentialUnavailableError(noKey().message);
  let secrets: Record<string, string>;
  try {
    secrets = openSecrets(key, row);
  } catch (err) {
    throw new CredentialUnavailableError(`credential ${id}: ${coerceError(err).message}`);
  }
  return toResolved(row.kind as CredentialKind, publicFields(row), secrets);
}
