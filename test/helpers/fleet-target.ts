import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One loopback HTTP server answering for many hosts, one path each (`/h/<name>`): it counts the
 * probes each host's path receives (with their times) and how many were in flight at once, and
 * answers 503 for the paths marked down. A test counts probes at the target, not in Vigil.
 */
export class FleetTarget {
  private server: http.Server | undefined;
  port = 0;
  /** Paths answering 503 (a host that is down, or behind a parent that is). */
  readonly down = new Set<string>();
  /** Every probe received: path and arrival time (ms since epoch). */
  readonly probes: { path: string; at: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Milliseconds each answer takes, so concurrent probes overlap measurably. */
  answerDelayMs: number;

  constructor(answerDelayMs = 20) {
    this.answerDelayMs = answerDelayMs;
  }

  url(name: string): string {
    return `http://127.0.0.1:${this.port}/h/${name}`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').replace(/^\/h\//, '');
      this.probes.push({ path, at: Date.now() });
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      setTimeout(() => {
        this.inFlight--;
        res.writeHead(this.down.has(path) ? 503 : 200).end();
      }, this.answerDelayMs);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Probes of these paths received in [from, to). */
  count(paths: Set<string>, from: number, to = Infinity): number {
    return this.probes.filter((p) => paths.has(p.path) && p.at >= from && p.at < to).length;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
