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
  const widths = widenTable(undefined, records, columns);
  return [renderTableHeader(columns, widths), ...(records.length > 0 ? [renderTableRows(records, columns, widths)] : [])].join('\n');
}

/**
 * The column widths of a table, widened by `records`: a table too big to hold can be measured in parts and
 * then written in parts with the same widths. A loop, not Math.max(...cells): spreading 130,000 cells overflows
 * the stack.
 */
export function widenTable(widths: readonly number[] | undefined, records: readonly OutputRecord[], columns: readonly string[]): number[] {
  const wider = widths ? [...widths] : columns.map((column) => column.length);
  for (const record of records) {
    columns.forEach((column, i) => {
      wider[i] = Math.max(wider[i] ?? 0, cellText(record[column]).length);
    });
  }
  return wider;
}

export function renderTableHeader(columns: readonly string[], widths: readonly number[]): string {
  return tableLine(
    columns.map((column) => column.toUpperCase()),
    widths,
  );
}

/** The rows alone, one per line, without a trailing newline. */
export function renderTableRows(records: readonly OutputRecord[], columns: readonly string[], widths: readonly number[]): string {
  return records.map((record) => tableLine(columns.map((column) => cellText(record[column])), widths)).join('\n');
}

function tableLine(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
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
