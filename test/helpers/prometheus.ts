/**
 * A throwaway Debian Prometheus (package `prometheus`) on 127.0.0.1 with its remote-write receiver
 * on, its own config (no scrapes) and TSDB in a temp dir: samples Vigil writes are read back
 * through Prometheus's own query API.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freeTcpPort, makeDaemonDir, startDaemon, type Daemon } from './daemon.ts';

const PROMETHEUS = '/usr/bin/prometheus';

export interface TestPrometheus extends Daemon {
  port: number;
  /** The remote-write URL to give Vigil. */
  writeUrl: string;
  /** An instant query's result vector (`/api/v1/query`). */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
}

/** Starts Prometheus on `port` (a free one by default: pass the old one to restart "the same" server). */
export async function startPrometheus(port?: number): Promise<TestPrometheus> {
  const listen = port ?? (await freeTcpPort());
  const dir = await makeDaemonDir('prometheus');
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  const base = `http://127.0.0.1:${listen}`;
  const daemon = await startDaemon(
    'prometheus',
    dir,
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${listen}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ],
    async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.ok === true,
  );
  return {
    ...daemon,
    port: listen,
    writeUrl: `${base}/api/v1/write`,
    query: async (promql) => {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
      if (body.status !== 'success') throw new Error(`prometheus query ${promql} failed: ${body.error}`);
      return body.data!.result;
    },
  };
}
