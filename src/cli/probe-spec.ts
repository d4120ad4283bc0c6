import { coerceError } from '../lib/errors.ts';
import { usageError } from './errors.ts';

/**
 * `--probe` on the command line: a JSON object as the API takes it, or a shorthand for the
 * common cases: `tcp:22`, `http://host/path` or `https://…` (expects 2xx/3xx by default).
 * The API validates the result; this only turns text into a probe object.
 */
export function parseProbeSpec(spec: string): Record<string, unknown> {
  const text = spec.trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw usageError(`--probe ${JSON.stringify(spec)}: not valid JSON (${coerceError(err).message})`);
    }
  }
  const tcp = /^tcp:(\d{1,5})$/.exec(text);
  if (tcp) return { type: 'tcp', port: Number(tcp[1]) };
  if (/^https?:\/\//.test(text)) return { type: 'http', url: text };
  throw usageError(`--probe ${JSON.stringify(spec)}: give tcp:PORT, an http(s):// URL, or a JSON probe object like '{"type":"ssh","port":22}'`);
}
