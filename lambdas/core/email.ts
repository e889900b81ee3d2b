/**
 * Email handling shared by every boundary. Matching is exact and case-insensitive:
 * Arize's list filter is a substring filter, so `ann@x.com` also returns `joann@x.com`,
 * and deleting on that hit would be the worst bug this product can have.
 */

/** Pragmatic syntax check: one @, a non-empty local part, a dotted domain, no spaces. */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
export const EMAIL_MAX_LENGTH = 254;

/** The form used for matching and de-duplication: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isValidEmail(email: string): boolean {
  const normalized = normalizeEmail(email);
  return normalized.length <= EMAIL_MAX_LENGTH && EMAIL_PATTERN.test(normalized);
}

/** True when two addresses are the same account for Arize (case-insensitive exact match). */
export function sameEmail(a: string, b: string): boolean {
  return normalizeEmail(a) === normalizeEmail(b);
}

/**
 * Emails are personal data: logs carry a masked form that still lets an operator
 * tell two addresses apart (`j***e@example.com`).
 */
export function maskEmail(email: string): string {
  const normalized = normalizeEmail(email);
  const at = normalized.lastIndexOf('@');
  if (at <= 0) return '***';
  const local = normalized.slice(0, at);
  const domain = normalized.slice(at + 1);
  const first = local[0] ?? '';
  const last = local.length > 1 ? local[local.length - 1] : '';
  return `${first}***${last}@${domain}`;
}
