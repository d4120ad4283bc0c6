import { stringify } from 'csv-stringify/sync';

/** Export file formats: content type, file extension, and how records become text. */
export const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
};

/** Turns a stream of record batches into one document: `head`, then `batch` per batch, then `tail`. */
export interface ExportEncoder {
  head(): string;
  batch(records: Record<string, unknown>[]): string;
  tail(): string;
}

/** The encoder of one response (encoders keep state: the JSON array's separators). */
export function exportEncoder(format: ExportFormat, columns: readonly string[]): ExportEncoder {
  switch (format) {
    case 'csv':
      return csvEncoder(columns);
    case 'json':
      return jsonArrayEncoder();
    case 'ndjson':
      return { head: () => '', batch: (records) => records.map((r) => `${JSON.stringify(r)}\n`).join(''), tail: () => '' };
  }
}

/** A JSON array written element by element: `[`, the elements comma-separated, `]`. */
function jsonArrayEncoder(): ExportEncoder {
  let first = true;
  return {
    head: () => '[',
    batch: (records) =>
      records
        .map((r) => {
          const separator = first ? '\n' : ',\n';
          first = false;
          return separator + JSON.stringify(r);
        })
        .join(''),
    tail: () => (first ? ']\n' : '\n]\n'),
  };
}

// csv-stringify writes booleans as 1/'' by default; these keep them readable, objects as JSON.
// escape_formulas prefixes cells starting with = + - @ with a quote: host names and error messages
// come from users and targets, and a spreadsheet would otherwise run them as formulas.
const CSV_OPTIONS = {
  cast: { boolean: (v: boolean) => String(v), object: (v: object) => JSON.stringify(v) },
  escape_formulas: true,
} as const;

function csvEncoder(columns: readonly string[]): ExportEncoder {
  return {
    head: () => stringify([[...columns]]),
    batch: (records) => stringify(records, { ...CSV_OPTIONS, columns: [...columns] }),
    tail: () => '',
  };
}
