import { createHash } from 'node:crypto';

/**
 * Step Functions execution names: 1..80 characters; we stay within [A-Za-z0-9-_] so the name is also
 * safe for CloudWatch log streams and metric dimensions.
 *
 * Ids made only of letters, digits and '-' (≤ 80) are used as they are. Anything else becomes
 * `<readable prefix>_<hash>`: the '_' marker never occurs in a pass-through name, so a pass-through
 * name can never equal a hashed one, and two hashed names differ unless SHA-256 collides in 80 bits.
 */
export const EXECUTION_NAME_MAX_LENGTH = 80;
const PASS_THROUGH = /^[A-Za-z0-9-]{1,80}$/;
const HASH_HEX_CHARS = 20;

export function executionNameFor(requestId: string): string {
  if (PASS_THROUGH.test(requestId)) return requestId;
  const hash = createHash('sha256').update(requestId, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS);
  const room = EXECUTION_NAME_MAX_LENGTH - HASH_HEX_CHARS - 1;
  const prefix = requestId
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, room)
    .replace(/-+$/, '');
  return `${prefix || 'req'}_${hash}`;
}

export function isValidExecutionName(name: string): boolean {
  return /^[A-Za-z0-9_-]{1,80}$/.test(name);
}
