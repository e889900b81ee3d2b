/**
 * What a deployed bundle is made of, read from the bundle and its source map as shipped in cdk.out (tested =
 * deployed: no second build with options that could differ). Every byte of the generated file belongs to the
 * source the map attributes it to (as source-map-explorer counts); sources are grouped by npm package, our own
 * files by directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((char, index) => [char, index]));

/** The VLQ fields of one mapping segment: [generated column, source index delta, …]. */
function decodeSegment(segment: string): number[] {
  const fields: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64_VALUE.get(char);
    if (digit === undefined) throw new Error(`source map: bad VLQ character ${JSON.stringify(char)}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return fields;
}

/** `node_modules/@smithy/core/dist-es/x.js` → `@smithy/core`; our files → their directory (`lambdas/arize`). */
export function ownerOf(source: string): string {
  const parts = source.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at >= 0) {
    const name = parts[at + 1] ?? source;
    return name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name;
  }
  const own = parts.filter((part) => part !== '..' && part !== '.');
  return own.slice(0, -1).join('/') || source;
}

export interface BundleContents {
  /** The generated file's size (what Node parses at a cold start). */
  bytes: number;
  /** Bytes per package or directory, largest first; bytes no mapping covers are `(unmapped)`. */
  owners: { owner: string; bytes: number }[];
}

/** The contents of `<assetDir>/<module>.mjs` by its `.map`; throws if the bundle was shipped without one. */
export function bundleContents(assetDir: string, moduleName = 'index', groupOf: (source: string) => string = ownerOf): BundleContents {
  const file = ['.mjs', '.js', '.cjs'].map((ext) => path.join(assetDir, moduleName + ext)).find((f) => existsSync(f));
  if (!file) throw new Error(`no ${moduleName}.mjs/.js/.cjs in ${assetDir}`);
  const mapFile = `${file}.map`;
  if (!existsSync(mapFile)) throw new Error(`${file} has no source map next to it: nothing to attribute its bytes to`);
  const code = readFileSync(file, 'utf8');
  const map = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[]; mappings: string };
  const totals = new Map<string, number>();
  const add = (owner: string, bytes: number) => totals.set(owner, (totals.get(owner) ?? 0) + bytes);
  const lines = code.split('\n');
  const mappingLines = map.mappings.split(';');
  let sourceIndex = 0;
  lines.forEach((line, lineIndex) => {
    const lineBytes = Buffer.byteLength(line, 'utf8') + (lineIndex < lines.length - 1 ? 1 : 0);
    const segments: { column: number; source: number | undefined }[] = [];
    let column = 0;
    for (const raw of (mappingLines[lineIndex] ?? '').split(',')) {
      if (raw === '') continue;
      const fields = decodeSegment(raw);
      column += fields[0] ?? 0;
      if (fields.length >= 4) sourceIndex += fields[1] ?? 0;
      segments.push({ column, source: fields.length >= 4 ? sourceIndex : undefined });
    }
    if (segments.length === 0) {
      add('(unmapped)', lineBytes);
      return;
    }
    // Columns count UTF-16 units; the bundle is minified ASCII almost everywhere, so units ≈ bytes.
    const first = segments[0]!.column;
    if (first > 0) add('(unmapped)', first);
    segments.forEach((segment, index) => {
      const end = index + 1 < segments.length ? segments[index + 1]!.column : line.length + (lineIndex < lines.length - 1 ? 1 : 0);
      const source = segment.source === undefined ? undefined : map.sources[segment.source];
      add(source === undefined ? '(unmapped)' : groupOf(source), end - segment.column);
    });
  });
  const owners = [...totals].map(([owner, bytes]) => ({ owner, bytes })).sort((a, b) => b.bytes - a.bytes);
  return { bytes: Buffer.byteLength(code, 'utf8'), owners };
}
