/**
 * The project's one CSV writer (RFC 4180), used by every report a person may open in a spreadsheet: the
 * audit report, `report.csv`, `report --format csv`, `run`/`status --output csv` and `users … --output csv`.
 * Emails and request ids come from HR systems and webhooks, so a cell such as `=hyperlink(…)&"@x.com"`
 * passes validation; a spreadsheet would run it as a formula. Text cells starting with = + - @, a tab or a
 * CR are therefore prefixed with `'` (OWASP's advice), which keeps them text.
 */
export type CsvCell = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One field: formula-guarded when it is text, quoted when it holds a comma, quote, CR or LF. */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  // Numbers and booleans are written by us, never by a sender; only text can carry a formula.
  const text = typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface CsvOptions {
  /** RFC 4180 says CRLF (the default); the audit report in S3 has always used LF. */
  newline?: '\r\n' | '\n';
  /** Without the header row: the rows that follow a header already written (a report written request by request). */
  header?: boolean;
}

/** Header row, then one line per record, each terminated (including the last). */
export function toCsv(
  records: readonly Readonly<Record<string, CsvCell>>[],
  columns: readonly string[],
  options: CsvOptions = {},
): string {
  const newline = options.newline ?? '\r\n';
  const rows = records.map((r) => columns.map((c) => csvField(r[c])));
  const lines = (options.header === false ? rows : [columns.map((c) => csvField(c)), ...rows]).map((row) => row.join(','));
  return lines.length === 0 ? '' : `${lines.join(newline)}${newline}`;
}

// ---- reading (the one CSV reader: `offboard run --file`, `offboard pull`, the scheduled pull) ----

/** RFC 4180 fields of one line (quoted fields with doubled quotes); multi-line fields are not supported. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line.charAt(i);
    if (quoted) {
      if (ch === '"' && line.charAt(i + 1) === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/** Header row → one record per non-blank line, keyed by the header's names; a short line leaves cells empty. */
export function parseCsvRecords(text: string): Record<string, string>[] {
  const [head, ...body] = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (head === undefined) return [];
  const names = splitCsvLine(head.replace(/^\uFEFF/, ''));
  return body.map((line) => {
    const cells = splitCsvLine(line);
    return Object.fromEntries(names.map((name, i) => [name, cells[i] ?? '']));
  });
}
