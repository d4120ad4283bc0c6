import type { RequestHandler, Response } from 'express';
import { CSRF_HEADER, resolveSession, SESSION_COOKIE, verifyCsrf, type WebSession } from '../auth/session-service.ts';
import { authenticate, forbidden, unauthorized, type Principal } from '../auth/token-service.ts';
import { scopeAllows } from '../auth/tokens.ts';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { AppError } from '../lib/errors.ts';
import { TokenBucket } from '../queue/rate-limit.ts';
import { acceptedScopes, type RouteSpec } from './route.ts';

/**
 * Authenticates every /api request before its body is parsed (an anonymous client cannot make us
 * parse a 16 MB bulk body) and keeps the principal in res.locals. A bearer token wins; without
 * one, the dashboard's session cookie is accepted, and a write with it must carry the CSRF header.
 */
export function authenticateApi(pool: Pool, config: Config): RequestHandler {
  return async (req, res, next) => {
    try {
      const sessionId = req.headers.authorization ? undefined : cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (sessionId) {
        const session = await resolveSession(pool, config.adminToken, sessionId);
        if (!session) throw unauthorized('the session has ended (signed out, expired or its token revoked): sign in again');
        if (req.method !== 'GET' && req.method !== 'HEAD') verifyCsrf(session, req.get(CSRF_HEADER));
        res.locals.session = session;
        res.locals.sessionId = sessionId;
        res.locals.principal = session.principal;
      } else {
        res.locals.principal = await authenticate(pool, config.adminToken, req.headers.authorization);
      }
      next();
    } catch (err) {
      if (err instanceof AppError && err.status === 401) err.headers['WWW-Authenticate'] = 'Bearer realm="vigil"';
      throw err;
    }
  };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** The dashboard session the request came with (undefined for bearer-token calls). */
export function sessionOf(res: Response): (WebSession & { id: string }) | undefined {
  const session = res.locals.session as WebSession | undefined;
  return session && { ...session, id: res.locals.sessionId as string };
}

/** One cookie's value from a Cookie header, without a parser dependency (the dashboard sets one cookie). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** 403 unless the caller's token carries a scope the operation accepts. */
export function authorize(route: RouteSpec, principal: Principal): void {
  const accepted = acceptedScopes(route);
  if (!scopeAllows(principal.scopes, accepted)) {
    throw forbidden(`this operation needs a token with scope ${accepted.filter((s) => s !== 'admin').join(' or ') || 'admin'}`);
  }
}

/**
 * JIT checks per token per minute, in this API process (a scanner hammering one endpoint must not
 * fill the queue). Beyond the limit: 429 with Retry-After.
 */
export class JitRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly perMinute: number;

  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  take(principal: Principal): void {
    if (this.perMinute === 0) return;
    let bucket = this.buckets.get(principal.tokenId);
    if (!bucket) this.buckets.set(principal.tokenId, (bucket = new TokenBucket(this.perMinute / 60, Date.now, this.perMinute)));
    if (bucket.available() >= 1) return bucket.take(1);
    const retryAfter = String(Math.max(1, Math.ceil(bucket.msUntilNext() / 1000)));
    throw new AppError('rate_limited', 429, `this token may request ${this.perMinute} JIT checks a minute; retry in ${retryAfter} s`, [], { 'Retry-After': retryAfter });
  }
}
