/**
 * Loopback targets for probe tests: real servers on 127.0.0.1 ephemeral ports, no mocks. Every
 * start function resolves once the server listens and returns a {@link LoopbackTarget} whose
 * close() destroys every connection the server still holds, so tests can assert nothing leaked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProbeContextWithCredential } from '../../src/probes/types.ts';

export const LOOPBACK = '127.0.0.1';

export interface LoopbackTarget {
  port: number;
  /** Base URL (`http://127.0.0.1:<port>`, or https), without a trailing slash; absent for plain TCP. */
  url?: string;
  /** Stop listening and destroy every open connection. */
  close(): Promise<void>;
}

/** A request as an HTTP target received it, for asserting what a probe sent. */
export interface ReceivedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Answers one request; `body` is the whole request body, already read. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Handlers by path (without the query); any other path gets 404. */
export type Routes = Record<string, RouteHandler>;

export interface HttpTarget extends LoopbackTarget {
  url: string;
  /** Every request received so far, oldest first. */
  requests: ReceivedRequest[];
}

/** Track a server's connections so close() can destroy them rather than wait for their peers. */
function closeable(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // a probe resetting the connection is expected, not a test failure
    socket.once('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** The request handler shared by the HTTP and HTTPS targets: read the body, record, route. */
function routeRequests(routes: Routes, requests: ReceivedRequest[]): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const handler = routes[new URL(req.url ?? '/', 'http://target').pathname];
      if (handler) handler(req, res, body);
      else res.writeHead(404).end('no such route');
    });
  };
}

async function startRoutedServer(server: http.Server, scheme: 'http' | 'https', requests: ReceivedRequest[]): Promise<HttpTarget> {
  const close = closeable(server);
  const port = await listen(server);
  return { port, url: `${scheme}://${LOOPBACK}:${port}`, requests, close };
}

/** An HTTP server answering each path with its handler. */
export function startHttpTarget(routes: Routes): Promise<HttpTarget> {
  const requests: ReceivedRequest[] = [];
  return startRoutedServer(http.createServer(routeRequests(routes, requests)), 'http', requests);
}

/** An HTTPS server with a fresh self-signed certificate for CN=localhost, valid for `days` days. */
export function startHttpsTarget(routes: Routes, days = 30): Promise<HttpTarget> {
  const requests: ReceivedRequest[] = [];
  const server = https.createServer(generateSelfSignedCert(days), routeRequests(routes, requests));
  return startRoutedServer(server, 'https', requests);
}

/**
 * A TCP listener that accepts connections and holds them open without a word. What the peer sends
 * is read and discarded: unread data would hold back the 'end' event, so a socket the peer closed
 * would stay open here.
 */
export async function startTcpTarget(): Promise<LoopbackTarget> {
  const server = net.createServer((socket) => socket.resume());
  const close = closeable(server);
  return { port: await listen(server), close };
}

/** Accepts connections and never answers: an HTTP check against it can only time out. */
export async function startSilentTarget(): Promise<LoopbackTarget> {
  const target = await startTcpTarget();
  return { ...target, url: `http://${LOOPBACK}:${target.port}` };
}

/**
 * A port nothing listens on: bound on port 0, read, and closed again, so connecting is refused.
 * (Another process could take the port in between; on loopback in a test run that is unlikely.)
 */
export async function reserveRefusedPort(): Promise<LoopbackTarget> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { port, url: `http://${LOOPBACK}:${port}`, close: async () => {} };
}

/** A PEM key and self-signed certificate from openssl (Node has no generator), made in a temp dir removed at once. */
export function generateSelfSignedCert(days = 30): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cert-'));
  try {
    const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', String(days), '-subj', '/CN=localhost',
        '-keyout', keyFile, '-out', certFile],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Run a probe the way the worker does: a signal that fires after `timeoutMs`, and the timer
 * cleared afterwards so the test itself leaks nothing. `address` defaults to loopback.
 */
export async function withProbeContext<T>(
  timeoutMs: number,
  run: (ctx: ProbeContextWithCredential) => Promise<T>,
  overrides: Partial<Omit<ProbeContextWithCredential, 'signal' | 'timeoutMs'>> = {},
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await run({ address: LOOPBACK, ...overrides, signal: controller.signal, timeoutMs });
  } finally {
    clearTimeout(timer);
  }
}

/** How many of the process's active resources (process.getActiveResourcesInfo()) have this name. */
export function countActiveResources(name: string): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === name).length;
}

/** Poll `condition` every 10 ms until it holds or `timeoutMs` passes; resolves to its last value. */
export async function waitUntil(condition: () => boolean, timeoutMs = 1000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
