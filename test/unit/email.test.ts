import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailProblem, hasEmailSyntax, isValidEmail, maskEmail, maskEmailsInText, normalizeEmail, sameEmail } from '../../lambdas/core/email.js';
import { lookAlikeArb } from '../support/look-alikes.js';

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

describe('the matching rule: ASCII-only case folding, look-alikes refused', () => {
  it('folds only A-Z: compatibility and non-ASCII letters are kept as they are', () => {
    expect(normalizeEmail('KATE@X.COM')).toBe('kate@x.com');
    expect(normalizeEmail('\u212Aate@x.com')).toBe('\u212Aate@x.com');
    expect(normalizeEmail('ÅSA@X.COM')).toBe('Åsa@x.com');
    expect(sameEmail('\u212Aate@x.com', 'kate@x.com')).toBe(false);
    expect(sameEmail('\u212Bsa@x.com', 'åsa@x.com')).toBe(false);
    expect(sameEmail('Åsa@x.com', 'åsa@x.com')).toBe(false);
    expect(sameEmail('åSA@x.com', 'åsa@X.com')).toBe(true);
  });

  it.each([
    ['\u212Aate@x.com', 'compatibility', 'U+212A'],
    ['\u212Bsa@x.com', 'compatibility', 'U+212B'],
    ['\uFF41nn@x.com', 'compatibility', 'U+FF41'],
    ['\uFB01ona@x.com', 'compatibility', 'U+FB01'],
    ['a\u0301sa@x.com', 'compatibility', 'NFKC'],
    ['an\u200Bn@x.com', 'invisible', 'U+200B'],
    ['an\u200Dn@x.com', 'invisible', 'U+200D'],
    ['ann\u00AD@x.com', 'invisible', 'U+00AD'],
    ['\uFEFFann@x.com', 'invisible', 'U+FEFF'],
    ['ann@x\u2060.com', 'invisible', 'U+2060'],
    ['\u202Eann@x.com', 'bidi', 'U+202E'],
    ['ann\u2066@x.com', 'bidi', 'U+2066'],
    ['ann\u200F@x.com', 'bidi', 'U+200F'],
    ['ann\u061C@x.com', 'bidi', 'U+061C'],
  ])('refuses %j as %s, naming %s', (email, kind, named) => {
    const problem = emailProblem(email);
    expect(problem?.kind).toBe(kind);
    expect(problem?.reason).toContain(named);
    expect(problem?.reason).not.toContain('@');
    expect(isValidEmail(email)).toBe(false);
  });

  it('accepts ordinary non-ASCII addresses (they match only themselves, up to ASCII case)', () => {
    expect(emailProblem('åsa@x.com')).toBeUndefined();
    expect(emailProblem('Jürgen@example.de')).toBeUndefined();
    expect(hasEmailSyntax('\u212Aate@x.com')).toBe(true);
  });

  it('property: every generated look-alike of a valid address is refused with the kind it was made with', () => {
    const bases = ['kate@x.com', 'anna.steiner@example.com', 'fiona@first.example', 'tom@st.example'];
    fc.assert(
      fc.property(fc.constantFrom(...bases).chain((base) => lookAlikeArb(base)), (lookAlike) => {
        const problem = emailProblem(lookAlike.email);
        expect(problem?.kind).toBe(lookAlike.kind);
        // And whatever the request, it is never the same account as its model.
        for (const base of bases) expect(sameEmail(lookAlike.email, base)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('masks emails inside request ids and free text', () => {
    expect(maskEmailsInText('resume: request hr-ann@example.com was RUNNING')).toBe('resume: request h***n@example.com was RUNNING');
  });
});
