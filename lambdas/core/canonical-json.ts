/**
 * Canonical JSON (keys sorted at every depth, no whitespace, `undefined` members dropped as JSON.stringify
 * drops them) and its SHA-256: what the evidence chain and the export digests hash, so the same content always
 * gives the same hash whatever the order its fields were written or read back in (DynamoDB does not keep it).
 */
import { createHash } from 'node:crypto';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : canonical(item)));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([key, item]) => [key, canonical(item)]));
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON: non-finite number');
  return value;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** `sha256:<hex>` of the canonical JSON of `value`. */
export function sha256Canonical(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`;
}
