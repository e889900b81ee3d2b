/**
 * Output formatting shared by every `offboard` command: one record shape, three renderings.
 * `table` is for people (aligned columns), `json` and `csv` are for scripts, so they carry
 * data only — summaries and hints go to stderr.
 */
import { Option } from 'commander';
import { csvField, toCsv, type CsvCell } from '../../lambdas/core/csv.js';
import { CliError, EXIT_USAGE } from './errors.js';

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = CsvCell;
export { csvField };
export type OutputRecord = Record<string, Cell>;

/** Throws a usage error naming the option, so a typo never silently falls back to a default. */
export function parseOutputFormat(value: string): OutputFormat {
  const normalized = value.trim().toLowerCase();
  const format = OUTPUT_FORMATS.find((candidate) => candidate === normalized);
  if (format === undefined) {
    throw new CliError(
      `invalid value for --output: '${value}' (expected one of ${OUTPUT_FORMATS.join(', ')})`,
      EXIT_USAGE,
    );
  }
  return format;
}

/** `-o, --output <format>`, validated while parsing, before any command runs. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', `output format: ${OUTPUT_FORMATS.join(' | ')}`)
    .default('table')
    .argParser(parseOutputFormat);
}

function cellText(value: Cell): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

/** Columns padded to their widest cell; the last column is not padded (no trailing spaces). */
export function renderTable(records: readonly OutputRecord[], columns: readonly string[]): string {
  const rows = [columns.map((c) => c.toUpperCase()), ...records.map((r) => columns.map((c) => cellText(r[c])))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** CSV output of every command goes through the project's one writer (formula-guarded, RFC 4180). */
export function renderCsv(records: readonly OutputRecord[], columns: readonly string[], options: { header?: boolean } = {}): string {
  return toCsv(records, columns, options);
}

export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export interface RenderInput {
  records: readonly OutputRecord[];
  columns: readonly string[];
  /** What `json` prints; defaults to the records themselves. */
  json?: unknown;
  /** What `table` prints instead of a lone header when there are no records. */
  emptyMessage?: string;
}

export function render(format: OutputFormat, input: RenderInput): string {
  switch (format) {
    case 'json':
      return renderJson(input.json ?? input.records);
    case 'csv':
      return renderCsv(input.records, input.columns);
    case 'table':
      if (input.records.length === 0 && input.emptyMessage !== undefined) return `${input.emptyMessage}\n`;
      return `${renderTable(input.records, input.columns)}\n`;
  }
}
