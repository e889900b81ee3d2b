import { describe, expect, it } from 'vitest';
import { isValidEmail, maskEmail, normalizeEmail, sameEmail } from '../../lambdas/core/email.js';

describe('email normalisation', () => {
  it('trims and lower-cases for matching', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
  });

  it('treats case variants as the same account but never substrings', () => {
    expect(sameEmail('ANN@x.com', 'ann@X.com')).toBe(true);
    expect(sameEmail('ann@x.com', 'joann@x.com')).toBe(false);
    expect(sameEmail('ann@x.com', 'ann+ops@x.com')).toBe(false);
  });

  it.each(['ann@x.com', 'first.last+tag@sub.example.co.uk', ' Padded@Example.com '])('accepts %s', (email) => {
    expect(isValidEmail(email)).toBe(true);
  });

  it.each(['', 'ann', 'ann@', '@x.com', 'ann@x', 'a b@x.com', 'ann@@x.com', 'ann@x..com', `${'a'.repeat(250)}@x.com`])(
    'rejects %j',
    (email) => {
      expect(isValidEmail(email)).toBe(false);
    },
  );
});

describe('maskEmail', () => {
  it('keeps the domain and the ends of the local part only', () => {
    expect(maskEmail('Jane.Doe@Example.com')).toBe('j***e@example.com');
    expect(maskEmail('j@example.com')).toBe('j***@example.com');
  });

  it('never echoes something that is not an address', () => {
    expect(maskEmail('not-an-email')).toBe('***');
  });
});
