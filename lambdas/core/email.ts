/**
 * Email handling shared by every boundary: the one home of the matching rule.
 *
 * An account matches a requested email only when the two are equal after ASCII-only case folding
 * (A-Z → a-z, nothing else). `toLowerCase()` is never used on an address: it folds U+212A KELVIN SIGN
 * into `k` and U+212B ANGSTROM SIGN into `å`, so `\u212Aate@x.com` would delete kate. Arize's list
 * filter is a substring filter as well (`ann@x.com` also returns `joann@x.com`); its hits are only
 * candidates, compared with this rule.
 *
 * An input address containing an invisible character, a bidirectional control or a compatibility
 * character (anything Unicode NFKC would change) is refused with a reason naming the code point: it
 * is either a typo no account has or an attempt to make one address look like another, and it must
 * neither match anything nor read as a harmless NOT_FOUND.
 */

/** Pragmatic syntax check: one @, a non-empty local part, a dotted domain, no spaces. */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
/** The same shape with only ASCII blanks excluded: stored accounts may hold any other character. */
const STORED_EMAIL_PATTERN = /^[^\t\n\v\f\r @]+@[^\t\n\v\f\r @.]+(?:\.[^\t\n\v\f\r @.]+)+$/;
export const EMAIL_MAX_LENGTH = 254;

/** U+200E/F, U+061C and the embedding/override/isolate controls: they reorder what a reader sees. */
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
/** Characters that render as nothing (zero-width, joiners, soft hyphen, BOM, tags, …) and control codes. */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}]/u;

/**
 * The form used for matching and de-duplication: ASCII blanks trimmed, A-Z folded to a-z, every other
 * character kept. Not `trim()`: it would silently drop a leading U+FEFF or U+00A0 that must be refused.
 */
export function normalizeEmail(email: string): string {
  return email.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '').replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

export type EmailProblemKind = 'syntax' | 'invisible' | 'bidi' | 'compatibility';

export interface EmailProblem {
  kind: EmailProblemKind;
  /** Names the character and why; never contains the address itself (reasons end up in logs). */
  reason: string;
}

/** Why an address that looks like an email must not be used for matching, or undefined when it may. */
export function unsafeCharacterProblem(email: string): EmailProblem | undefined {
  if (/\p{Cs}/u.test(email)) return { kind: 'invisible', reason: 'contains an unpaired surrogate (broken UTF-16)' };
  for (const char of email) {
    if (BIDI_CONTROL.test(char)) {
      return { kind: 'bidi', reason: `contains the bidirectional control character ${codePoint(char)}, which changes how the address reads` };
    }
    if (INVISIBLE.test(char)) return { kind: 'invisible', reason: `contains the invisible character ${codePoint(char)}` };
  }
  for (const char of email) {
    const folded = char.normalize('NFKC');
    if (folded !== char) {
      return {
        kind: 'compatibility',
        reason: `contains the compatibility character ${codePoint(char)}, a look-alike of "${folded}"; write the address with the characters the account really has`,
      };
    }
  }
  if (email.normalize('NFKC') !== email) {
    return { kind: 'compatibility', reason: 'contains combining characters that Unicode would compose (not in NFKC form); write the address in its composed form' };
  }
  return undefined;
}

/**
 * The single validation of a requested address: syntax first, then the look-alike rules above.
 * Returns undefined when the address may be used.
 */
export function emailProblem(email: string): EmailProblem | undefined {
  const normalized = normalizeEmail(email);
  const lookAlike = unsafeCharacterProblem(normalized);
  if (lookAlike) return lookAlike;
  if (normalized.length > EMAIL_MAX_LENGTH || !EMAIL_PATTERN.test(normalized)) return { kind: 'syntax', reason: 'not a valid email address' };
  return undefined;
}

/** Syntax only: what an email server (or the sandbox standing in for Arize) stores, look-alikes included. */
export function hasEmailSyntax(email: string): boolean {
  const normalized = normalizeEmail(email);
  return normalized.length <= EMAIL_MAX_LENGTH && STORED_EMAIL_PATTERN.test(normalized);
}

/** True when the address may be requested: valid syntax and none of the look-alike characters. */
export function isValidEmail(email: string): boolean {
  return emailProblem(email) === undefined;
}

/** The matching rule: equal after ASCII-only case folding. Nothing else makes two addresses the same account. */
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

const EMAIL_IN_TEXT = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;

/**
 * Masks every email-looking token in free text, request ids included (`hr-ann@example.com` is an id an
 * HR system builds from an address): log lines, progress lines and error messages go through this.
 */
export function maskEmailsInText(text: string): string {
  return text.replace(EMAIL_IN_TEXT, (match) => maskEmail(match));
}

/** Deep copy with every string's email addresses masked. */
export function maskEmailsDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskEmailsInText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: maskEmailsInText(value.message), ...(value.stack ? { stack: maskEmailsInText(value.stack) } : {}) };
  }
  if (Array.isArray(value)) return value.map((item) => maskEmailsDeep(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskEmailsDeep(item, depth + 1)]));
}
