import { createServer, type Server } from 'node:http';
import type { Express, Request, Response } from 'express';
import { tokensEqual } from '../auth/tokens.ts';
import { renderMetrics, type Metrics } from './metrics.ts';

/** True when the request may read metrics: no token configured, or the right bearer token. */
function allowed(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const presented = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  return presented !== undefined && tokensEqual(presented, token);
}

async function answer(metrics: Metrics, token: string | undefined, header: string | undefined): Promise<{ status: number; type: string; body: string }> {
  if (!allowed(header, token)) return { status: 401, type: 'text/plain', body: 'metrics need Authorization: Bearer <VIGIL_METRICS_TOKEN>\n' };
  return { status: 200, type: metrics.registry.contentType, body: await renderMetrics(metrics) };
}

/** GET /metrics on the API (Prometheus text format), outside /api's token scopes. */
export function serveMetrics(app: Express, metrics: Metrics, token: string | undefined): void {
  app.get('/metrics', async (req: Request, res: Response) => {
    const r = await answer(metrics, token, req.headers.authorization);
    res.status(r.status).type(r.type).send(r.body);
  });
}

/** A bare /metrics server for processes without the API (workers, schedulers). */
export async function startMetricsServer(port: number, host: string, metrics: Metrics, token: string | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    answer(metrics, token, req.headers.authorization).then(
      (r) => res.writeHead(r.status, { 'Content-Type': r.type }).end(r.body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return server;
}
