/**
 * HTTP Digest access authentication, client side (RFC 7616: MD5, SHA-256 and their -sess
 * variants, qop=auth; RFC 2069's qop-less form when a server offers no qop). The HTTP probe sends
 * its request without credentials, and when the answer is a 401 with a Digest challenge, answers
 * it once. The password never leaves the process: only hashes of it are sent.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Algorithms answered, strongest first (RFC 7616 §3.7: a client picks the first it supports). */
const ALGORITHMS = { 'SHA-256': 'sha256', 'SHA-256-SESS': 'sha256', MD5: 'md5', 'MD5-SESS': 'md5' } as const;
type Algorithm = keyof typeof ALGORITHMS;
const PREFERENCE: readonly Algorithm[] = ['SHA-256', 'SHA-256-SESS', 'MD5', 'MD5-SESS'];

/** One Digest challenge of a WWW-Authenticate header. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** Upper-cased; MD5 when the server named none (RFC 7616 §3.3). */
  algorithm: string;
  /** Offered qop values, lower-cased; empty for an RFC 2069 server. */
  qop: string[];
  opaque?: string;
  /** RFC 7616 userhash=true: the user name is sent hashed. */
  userhash: boolean;
}

/** Split WWW-Authenticate values into challenges: scheme and its auth-params (RFC 9110 §11.6.1). */
export function parseChallenges(headerValues: readonly string[]): { scheme: string; params: Record<string, string> }[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  // token68 forms (Basic's "realm" is a param; Negotiate's blob is token68) are kept as params-less.
  const TOKEN = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)/y;
  for (const value of headerValues) {
    let i = 0;
    let current: { scheme: string; params: Record<string, string> } | undefined;
    while (i < value.length) {
      while (value[i] === ',' || value[i] === ' ' || value[i] === '\t') i++;
      TOKEN.lastIndex = i;
      const token = TOKEN.exec(value);
      if (!token) break;
      i = TOKEN.lastIndex;
      while (value[i] === ' ' || value[i] === '\t') i++;
      if (value[i] === '=' && current) {
        const [param, next] = readParamValue(value, i + 1);
        current.params[token[1]!.toLowerCase()] = param;
        i = next;
      } else {
        current = { scheme: token[1]!.toLowerCase(), params: {} };
        challenges.push(current);
      }
    }
  }
  return challenges;
}

/** A quoted-string (with \-escapes) or token after '=', and where parsing continues. */
function readParamValue(value: string, start: number): [string, number] {
  let i = start;
  while (value[i] === ' ' || value[i] === '\t') i++;
  if (value[i] !== '"') {
    const end = value.slice(i).search(/[\s,]|$/);
    return [value.slice(i, i + end), i + end];
  }
  let out = '';
  for (i++; i < value.length && value[i] !== '"'; i++) out += value[i] === '\\' ? (value[++i] ?? '') : value[i];
  return [out, i + 1];
}

/** The strongest Digest challenge this client can answer, or undefined when there is none. */
export function pickDigestChallenge(headerValues: readonly string[]): DigestChallenge | undefined {
  const usable = parseChallenges(headerValues)
    .filter((c) => c.scheme === 'digest' && c.params.realm !== undefined && c.params.nonce !== undefined)
    .map((c): DigestChallenge => ({
      realm: c.params.realm!,
      nonce: c.params.nonce!,
      algorithm: (c.params.algorithm ?? 'MD5').toUpperCase(),
      qop: (c.params.qop ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean),
      ...(c.params.opaque !== undefined ? { opaque: c.params.opaque } : {}),
      userhash: (c.params.userhash ?? '').toLowerCase() === 'true',
    }))
    // qop=auth-int alone would need the body hashed; not supported, so such a challenge is skipped.
    .filter((c) => c.algorithm in ALGORITHMS && (c.qop.length === 0 || c.qop.includes('auth')));
  return usable.sort((a, b) => PREFERENCE.indexOf(a.algorithm as Algorithm) - PREFERENCE.indexOf(b.algorithm as Algorithm))[0];
}

export interface DigestRequest {
  method: string;
  /** The request-target as sent: path and query. */
  uri: string;
  username: string;
  password: string;
}

/** Builds the Authorization header answering `challenge`. `cnonce` is fixed only by tests (RFC vectors). */
export function digestAuthorization(challenge: DigestChallenge, req: DigestRequest, cnonce = randomBytes(16).toString('hex')): string {
  const hashName = ALGORITHMS[challenge.algorithm as Algorithm];
  const h = (text: string) => createHash(hashName).update(text, 'utf8').digest('hex');
  const nc = '00000001';
  let ha1 = h(`${req.username}:${challenge.realm}:${req.password}`);
  if (challenge.algorithm.endsWith('-SESS')) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${req.method}:${req.uri}`);
  const withQop = challenge.qop.length > 0;
  const response = withQop ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const username = challenge.userhash ? h(`${req.username}:${challenge.realm}`) : req.username;
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(challenge.realm)}`,
    `uri=${quote(req.uri)}`,
    `algorithm=${challenge.algorithm === 'MD5' ? 'MD5' : challenge.algorithm.replace('-SESS', '-sess')}`,
    `nonce=${quote(challenge.nonce)}`,
    ...(withQop ? [`nc=${nc}`, `cnonce=${quote(cnonce)}`, 'qop=auth'] : []),
    `response=${quote(response)}`,
    ...(challenge.opaque !== undefined ? [`opaque=${quote(challenge.opaque)}`] : []),
    ...(challenge.userhash ? ['userhash=true'] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
