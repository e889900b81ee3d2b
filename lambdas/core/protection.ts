import { normalizeEmail } from './email.js';

/**
 * Who must never be deleted, whatever the request says. Checked after resolution, against the
 * account Arize actually returned (email and role), not only against what the request asked for.
 */
export interface ProtectionPolicy {
  protectedEmails: readonly string[];
  /** Globs over the whole address: `*` any run of characters, `?` one character. */
  protectedPatterns: readonly string[];
  /** Role names (predefined names such as ADMIN, or custom role names/ids), case-insensitive. */
  protectedRoles: readonly string[];
  /** The API key's own user: Arize refuses self-deletion, and we would lock ourselves out. */
  apiKeyOwnerEmail?: string;
  apiKeyOwnerUserId?: string;
}

export interface AccountForProtection {
  id: string;
  email: string;
  role?: { type: string; name?: string; id?: string };
}

export function globToRegExp(glob: string): RegExp {
  const escaped = normalizeEmail(glob)
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}$`);
}

export interface ProtectionMatcher {
  /** The rule that protects this account, or undefined when it may be deleted. */
  protectedBy(account: AccountForProtection): string | undefined;
}

export function createProtectionMatcher(policy: ProtectionPolicy): ProtectionMatcher {
  const emails = new Set(policy.protectedEmails.map(normalizeEmail).filter(Boolean));
  const patterns = policy.protectedPatterns
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => ({ source: p, regex: globToRegExp(p) }));
  const roles = new Set(policy.protectedRoles.map((r) => r.trim().toUpperCase()).filter(Boolean));
  const ownerEmail = policy.apiKeyOwnerEmail ? normalizeEmail(policy.apiKeyOwnerEmail) : undefined;
  return {
    protectedBy(account) {
      const email = normalizeEmail(account.email);
      if ((ownerEmail && email === ownerEmail) || (policy.apiKeyOwnerUserId && account.id === policy.apiKeyOwnerUserId)) {
        return 'api-key-owner';
      }
      if (emails.has(email)) return 'protected-email';
      const pattern = patterns.find((p) => p.regex.test(email));
      if (pattern) return `protected-pattern:${pattern.source}`;
      const roleNames = [account.role?.name, account.role?.id].filter((v): v is string => typeof v === 'string');
      const role = roleNames.find((name) => roles.has(name.toUpperCase()));
      if (role) return `protected-role:${role.toUpperCase()}`;
      return undefined;
    },
  };
}
