/**
 * Writes samples to a Prometheus-compatible time-series database (Prometheus with its
 * remote-write receiver, VictoriaMetrics, Mimir, Thanos) with the remote-write protocol.
 *
 * Checks never wait for it: `push` appends to a bounded buffer and returns. A background loop
 * sends batches; a failed send is retried with backoff and the batch stays at the head of the
 * buffer, so a database that is down for an hour costs at most `bufferSamples` samples of memory:
 * past that the oldest are dropped (and counted), and the rest are sent when it comes back.
 */
import client from 'prom-client';
import { coerceError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { backoffMs, type Backoff } from '../lib/backoff.ts';
import type { SampleSink } from './check-values.ts';
import type { Sample } from './items.ts';
import { encodeWriteRequest, type TimeSeries } from './remote-write-encoding.ts';

export interface RemoteWriteConfig {
  url: string;
  /** Basic auth, or a bearer token: never logged. */
  username?: string;
  password?: string;
  bearerToken?: string;
  /** Most samples held while the database is unreachable; the oldest are dropped past this. */
  bufferSamples: number;
  /** Most samples per request. */
  batchSamples: number;
  /** How often the buffer is sent when it holds less than a batch. */
  flushIntervalMs: number;
  /** One request's time limit. */
  requestTimeoutMs: number;
}

/** Retry a failed send after 0.5 s, 1 s, 2 s … up to 30 s. */
const SEND_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000, jitter: false };

interface Entry {
  labels: Record<string, string>;
  value: number;
  timestampMs: number;
}

/** `vigil_<item>[_<unit>][_total]`, as Prometheus's naming conventions have it. */
export function metricName(sample: Pick<Sample, 'item' | 'unit' | 'kind'>): string {
  const base = sample.unit && !sample.item.endsWith(`_${sample.unit}`) ? `vigil_${sample.item}_${sample.unit}` : `vigil_${sample.item}`;
  return sample.kind === 'counter' ? `${base}_total` : base;
}

export class RemoteWriter implements SampleSink {
  private readonly config: RemoteWriteConfig;
  private readonly logger: Logger;
  private buffer: Entry[] = [];
  private failures = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private inflight: AbortController | undefined;
  private readonly metrics;

  constructor(config: RemoteWriteConfig, logger: Logger, registry?: client.Registry) {
    this.config = config;
    this.logger = logger;
    const registers = registry ? [registry] : [];
    this.metrics = {
      written: new client.Counter({ name: 'vigil_remote_write_samples_total', help: 'Samples the time-series database accepted', registers }),
      dropped: new client.Counter({ name: 'vigil_remote_write_dropped_samples_total', help: 'Samples dropped: the oldest when the buffer was full, or a batch the database rejected as invalid (4xx)', labelNames: ['reason'] as const, registers }),
      failures: new client.Counter({ name: 'vigil_remote_write_failures_total', help: 'Remote-write requests that failed and will be retried', registers }),
      buffered: new client.Gauge({ name: 'vigil_remote_write_buffered_samples', help: 'Samples waiting to be written', registers }),
    };
  }

  /** Samples waiting to be sent. */
  get buffered(): number {
    return this.buffer.length;
  }

  push(samples: Sample[], labels: { host: string; group: string | null }, at: Date): void {
    if (this.stopping || samples.length === 0) return;
    const timestampMs = at.getTime();
    for (const s of samples) {
      const series: Record<string, string> = { __name__: metricName(s), host: labels.host, template: s.template, item: s.item };
      if (labels.group) series.group = labels.group;
      if (s.row !== null) series.row = s.row;
      this.buffer.push({ labels: series, value: s.value, timestampMs });
    }
    const excess = this.buffer.length - this.config.bufferSamples;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.metrics.dropped.inc({ reason: 'buffer_full' }, excess);
    }
    this.metrics.buffered.set(this.buffer.length);
    // A full batch goes out at once, unless the loop is backing off from a failure.
    if (this.buffer.length >= this.config.batchSamples && this.failures === 0) this.wake?.();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Sends what it can within `graceMs`, then stops; what is left is dropped (counted). */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    const deadline = setTimeout(() => this.inflight?.abort(), graceMs);
    this.wake?.();
    await this.loop;
    clearTimeout(deadline);
    if (this.buffer.length > 0) this.metrics.dropped.inc({ reason: 'shutdown' }, this.buffer.length);
  }

  private async run(): Promise<void> {
    while (true) {
      if (this.buffer.length === 0) {
        if (this.stopping) return;
        await this.sleep(this.config.flushIntervalMs);
        continue;
      }
      if (!(await this.sendBatch())) {
        if (this.stopping) return;
        await this.sleep(backoffMs(this.failures, SEND_BACKOFF));
        continue;
      }
      if (this.buffer.length < this.config.batchSamples && !this.stopping) await this.sleep(this.config.flushIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Sends the head of the buffer; true when it left the buffer (accepted, or rejected for good). */
  private async sendBatch(): Promise<boolean> {
    const batch = this.buffer.slice(0, this.config.batchSamples);
    const outcome = await this.post(encodeWriteRequest(toSeries(batch)));
    if (outcome === 'retry') {
      this.failures++;
      this.metrics.failures.inc();
      return false;
    }
    // The buffer may have dropped its oldest meanwhile: remove what is left of the batch at its head.
    const sent = new Set(batch);
    let head = 0;
    while (head < this.buffer.length && sent.has(this.buffer[head]!)) head++;
    this.buffer.splice(0, head);
    if (outcome === 'ok') this.metrics.written.inc(batch.length);
    else this.metrics.dropped.inc({ reason: 'rejected' }, batch.length);
    this.metrics.buffered.set(this.buffer.length);
    if (this.failures > 0) this.logger.info('remote write recovered', { after_failures: this.failures, buffered: this.buffer.length });
    this.failures = 0;
    return true;
  }

  private async post(body: Uint8Array): Promise<'ok' | 'rejected' | 'retry'> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': 'vigil',
    };
    if (this.config.bearerToken) headers.authorization = `Bearer ${this.config.bearerToken}`;
    else if (this.config.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${this.config.username}:${this.config.password ?? ''}`).toString('base64')}`;
    this.inflight = new AbortController();
    const timer = setTimeout(() => this.inflight?.abort(), this.config.requestTimeoutMs);
    try {
      const res = await fetch(this.config.url, { method: 'POST', headers, body, signal: this.inflight.signal });
      const text = await res.text().catch(() => '');
      if (res.ok) return 'ok';
      // 4xx but 429 will never succeed (out-of-order or malformed samples): retrying would block the buffer for good.
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 429;
      // A proxy's error page may quote the request's Authorization: redacted before it is clipped and logged.
      this.logWarn(`time-series database answered ${res.status}`, { body: this.redact(text, headers.authorization).slice(0, 200), permanent });
      return permanent ? 'rejected' : 'retry';
    } catch (err) {
      this.logWarn('time-series database unreachable', { err: coerceError(err).message });
      return 'retry';
    } finally {
      clearTimeout(timer);
      this.inflight = undefined;
    }
  }

  /** text without the endpoint's credentials (the header value, its encoded part, the password or token). */
  private redact(text: string, authorization: string | undefined): string {
    const secrets = [authorization, authorization?.split(' ')[1], this.config.password, this.config.bearerToken].filter((s): s is string => s !== undefined && s.length >= 4);
    return secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
  }

  /** The first failure and every 30th after are logged: an hour-long outage is not a log flood. */
  private logWarn(message: string, extra: Record<string, unknown>): void {
    if (this.failures === 0 || this.failures % 30 === 0) this.logger.warn(`remote write: ${message}; retrying with backoff`, { ...extra, buffered: this.buffer.length, consecutive_failures: this.failures });
  }
}

/** Entries grouped into series (a batch may hold several checks of the same host). */
function toSeries(entries: Entry[]): TimeSeries[] {
  const series = new Map<string, TimeSeries>();
  for (const e of entries) {
    const key = JSON.stringify(e.labels);
    const s = series.get(key) ?? { labels: e.labels, samples: [] };
    s.samples.push({ value: e.value, timestampMs: e.timestampMs });
    series.set(key, s);
  }
  return [...series.values()];
}
