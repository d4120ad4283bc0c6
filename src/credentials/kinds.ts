import { z } from 'zod';
import type { ResolvedCredential } from '../probes/types.ts';

/**
 * Credential kinds: which fields each has, which of them are secret (write-only, encrypted at
 * rest), and how a stored credential becomes the ResolvedCredential a probe receives.
 */
export const CREDENTIAL_KINDS = ['ssh-password', 'ssh-key', 'snmp-community', 'snmp-v3', 'http-basic', 'http-bearer', 'http-secret', 'http-digest'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export const SECRET_FIELDS = ['password', 'private_key', 'passphrase', 'community', 'auth_key', 'priv_key', 'token', 'value'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];
export const PUBLIC_FIELDS = ['username', 'level', 'auth_protocol', 'priv_protocol'] as const;

const secret = (what: string, max = 4096) => z.string().min(1).max(max).describe(`${what} (write-only: never returned)`);
const username = z.string().min(1).max(255).describe('User name');
// RFC 3414: USM passwords shorter than 8 characters are rejected by agents.
const usmKey = (what: string) => z.string().min(8).max(255).describe(`${what}, at least 8 characters (write-only)`);

export const credentialFieldsByKind = {
  'ssh-password': z.object({ username, password: secret('SSH password') }),
  'ssh-key': z.object({
    username,
    private_key: secret('Private key in OpenSSH or PEM form', 65_536),
    passphrase: secret('Passphrase of an encrypted private key').optional(),
  }),
  'snmp-community': z.object({ community: secret('SNMP v1/v2c community', 255) }),
  'snmp-v3': z.object({
    username,
    level: z.enum(['noAuthNoPriv', 'authNoPriv', 'authPriv']).describe('USM security level'),
    auth_protocol: z.enum(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512']).optional(),
    auth_key: usmKey('Authentication password').optional(),
    priv_protocol: z.enum(['des', 'aes', 'aes256b', 'aes256r']).optional(),
    priv_key: usmKey('Privacy password').optional(),
  }),
  'http-basic': z.object({ username, password: secret('HTTP basic password') }),
  'http-bearer': z.object({ token: secret('Bearer token', 8192) }),
  'http-digest': z.object({ username, password: secret('HTTP digest password (RFC 7616; only its hashes are sent)') }),
  'http-secret': z.object({ value: secret('Secret an HTTP probe places in a header, query parameter or body (its secret_placement)', 8192) }),
} as const;

/** SNMPv3: the level decides which protocols and keys must be present. */
export function snmpV3Problems(f: Record<string, unknown>): { field: string; message: string }[] {
  const needs = f.level === 'authPriv' ? ['auth_protocol', 'auth_key', 'priv_protocol', 'priv_key'] : f.level === 'authNoPriv' ? ['auth_protocol', 'auth_key'] : [];
  return needs.filter((k) => f[k] === undefined).map((k) => ({ field: k, message: `required for level ${String(f.level)}` }));
}

export function splitFields(fields: Record<string, unknown>): { public: Record<string, unknown>; secret: Record<string, string> } {
  const pub: Record<string, unknown> = {};
  const sec: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || k === 'name' || k === 'kind') continue;
    if ((SECRET_FIELDS as readonly string[]).includes(k)) sec[k] = v as string;
    else pub[k] = v;
  }
  return { public: pub, secret: sec };
}

/** Public view: public fields plus has_<secret> flags for every secret field of the kind. */
export function describeSecrets(kind: CredentialKind, secretFields: string[]): Record<string, boolean> {
  const shape = credentialFieldsByKind[kind].shape as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(shape)
      .filter((k) => (SECRET_FIELDS as readonly string[]).includes(k))
      .map((k) => [`has_${k}`, secretFields.includes(k)]),
  );
}

/** The decrypted form a probe gets. */
export function toResolved(kind: CredentialKind, pub: Record<string, unknown>, sec: Record<string, string>): ResolvedCredential {
  const u = pub.username as string;
  switch (kind) {
    case 'ssh-password':
      return { kind, username: u, password: sec.password! };
    case 'ssh-key':
      return { kind, username: u, privateKey: sec.private_key!, ...(sec.passphrase ? { passphrase: sec.passphrase } : {}) };
    case 'snmp-community':
      return { kind, community: sec.community! };
    case 'snmp-v3':
      return {
        kind,
        username: u,
        level: pub.level as 'noAuthNoPriv' | 'authNoPriv' | 'authPriv',
        ...(pub.auth_protocol ? { authProtocol: pub.auth_protocol as never, authKey: sec.auth_key } : {}),
        ...(pub.priv_protocol ? { privProtocol: pub.priv_protocol as never, privKey: sec.priv_key } : {}),
      };
    case 'http-basic':
      return { kind, username: u, password: sec.password! };
    case 'http-bearer':
      return { kind, token: sec.token! };
    case 'http-digest':
      return { kind, username: u, password: sec.password! };
    case 'http-secret':
      return { kind, value: sec.value! };
  }
}

/** Which credential kinds a probe accepts. */
export function acceptedKinds(probe: { type: string; version?: string; secret_placement?: unknown }): readonly CredentialKind[] {
  switch (probe.type) {
    case 'ssh':
      return ['ssh-password', 'ssh-key'];
    case 'snmp':
    case 'snmp-table':
      return probe.version === '3' ? ['snmp-v3'] : ['snmp-community'];
    case 'http':
      return probe.secret_placement === undefined ? ['http-basic', 'http-bearer', 'http-digest'] : ['http-secret'];
    default:
      return [];
  }
}
