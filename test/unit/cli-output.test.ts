import { describe, expect, it } from 'vitest';
import { CliError } from '../../local/cli/errors.js';
import { csvField, parseOutputFormat, render, renderCsv, renderTable, renderTableHeader, renderTableRows, widenTable } from '../../local/cli/output.js';

describe('parseOutputFormat', () => {
  it('accepts the three formats in any case', () => {
    expect(parseOutputFormat('table')).toBe('table');
    expect(parseOutputFormat('JSON')).toBe('json');
    expect(parseOutputFormat(' csv ')).toBe('csv');
  });

  it('rejects anything else with a usage error naming --output and the value', () => {
    let caught: unknown;
    try {
      parseOutputFormat('parquet');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).exitCode).toBe(2);
    expect((caught as CliError).message).toContain("--output: 'parquet'");
  });
});

describe('csv (RFC 4180)', () => {
  it('quotes only fields holding a comma, quote, CR or LF, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(false)).toBe('false');
  });

  it('writes a header row and CRLF after every record', () => {
    const text = renderCsv([{ id: 'u1', name: 'Lee, Ann' }, { id: 'u2' }], ['id', 'name']);
    expect(text).toBe('id,name\r\nu1,"Lee, Ann"\r\nu2,\r\n');
  });

  it('without the header writes only the rows, and nothing for no rows (a continuation after the header)', () => {
    expect(renderCsv([{ id: 'u3', name: '=cmd' }], ['id', 'name'], { header: false })).toBe("u3,'=cmd\r\n");
    expect(renderCsv([], ['id', 'name'], { header: false })).toBe('');
    expect(renderCsv([], ['id', 'name'])).toBe('id,name\r\n');
  });
});

describe('table', () => {
  it('aligns columns to the widest cell, without trailing spaces', () => {
    const text = renderTable(
      [
        { id: 'u1', email: 'a@x.io', status: 'deleted' },
        { id: 'user-22', email: 'long.name@example.com', status: undefined },
      ],
      ['id', 'email', 'status'],
    );
    expect(text.split('\n')).toEqual([
      'ID       EMAIL                  STATUS',
      'u1       a@x.io                 deleted',
      'user-22  long.name@example.com',
    ]);
  });

  it('renders 200,000 rows (spreading that many cells into Math.max overflows the stack)', () => {
    const records = Array.from({ length: 200_000 }, (_, i) => ({ id: `u${i}`, email: i === 150_000 ? 'the.widest@example.com' : 'a@x.io' }));
    const lines = renderTable(records, ['id', 'email']).split('\n');
    expect(lines).toHaveLength(200_001);
    expect(lines[0]).toBe('ID       EMAIL');
    expect(lines[150_001]).toBe('u150000  the.widest@example.com');
  });

  it('measured and written in parts, is the table rendered whole', () => {
    const columns = ['id', 'email'];
    const parts = [[{ id: 'u1', email: 'a@x.io' }], [{ id: 'user-22', email: 'long.name@example.com' }]];
    const widths = parts.reduce<number[] | undefined>((measured, part) => widenTable(measured, part, columns), undefined);
    const text = [renderTableHeader(columns, widths ?? []), ...parts.map((part) => renderTableRows(part, columns, widths ?? []))].join('\n');
    expect(text).toBe(renderTable(parts.flat(), columns));
  });

  it('prints the empty message instead of a lone header, and json verbatim', () => {
    expect(render('table', { records: [], columns: ['id'], emptyMessage: 'No users.' })).toBe('No users.\n');
    expect(render('json', { records: [], columns: ['id'], json: { users: [] } })).toBe('{\n  "users": []\n}\n');
    expect(render('csv', { records: [], columns: ['id'] })).toBe('id\r\n');
  });
});

describe('the one CSV writer: formula guard', () => {
  it.each([
    ['=hyperlink("http://e.x")&"@x.com"', `"'=hyperlink(""http://e.x"")&""@x.com"""`],
    ['+cmd@x.com', "'+cmd@x.com"],
    ['-2+3@x.com', "'-2+3@x.com"],
    ['@sum(a1)@x.com', "'@sum(a1)@x.com"],
    ['\tann@x.com', "'\tann@x.com"],
    ['\rann@x.com', `"'\rann@x.com"`],
    ['ann=1@x.com', 'ann=1@x.com'],
  ])('%j ⇒ %s', (cell, written) => {
    expect(csvField(cell)).toBe(written);
  });

  it('numbers are ours, not formulas: a negative count stays a number', () => {
    expect(renderCsv([{ n: -1 }], ['n'])).toBe('n\r\n-1\r\n');
  });
});
