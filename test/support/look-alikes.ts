/**
 * Generators of look-alike email addresses for the property tests: the same visible text as a real
 * address, made with invisible characters, bidirectional controls or compatibility characters.
 */
import fc from 'fast-check';

export const INVISIBLES = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u180E', '\u034F', '\u2063'];
export const BIDI_CONTROLS = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];

/** ASCII letter ⇒ compatibility characters NFKC turns into it (or into a letter that looks like it). */
export const COMPATIBLE: Record<string, string[]> = {
  k: ['\u212A'], // KELVIN SIGN
  a: ['\uFF41', '\u24D0', '\u00AA'], // fullwidth a, circled a, feminine ordinal
  e: ['\uFF45', '\u2091'], // fullwidth e, subscript e
  n: ['\uFF4E', '\u207F'], // fullwidth n, superscript n
  t: ['\uFF54', '\u{1D42D}'], // fullwidth t, mathematical bold t
  o: ['\uFF4F', '\u2092'],
  i: ['\u2170', '\uFF49'], // roman numeral one, fullwidth i
  s: ['\uFF53', '\u017F'], // fullwidth s, long s
};
/** Multi-letter compatibility forms: ligatures. */
export const LIGATURES: Record<string, string> = { fi: '\uFB01', ff: '\uFB00', st: '\uFB06' };

export type LookAlikeKind = 'invisible' | 'bidi' | 'compatibility';

export interface LookAlike {
  kind: LookAlikeKind;
  email: string;
}

function insertAt(text: string, index: number, char: string): string {
  const position = Math.min(index, text.length);
  return `${text.slice(0, position)}${char}${text.slice(position)}`;
}

/** A look-alike of `email` (which must contain at least one letter of COMPATIBLE or a ligature for `compatibility`). */
export function lookAlikeArb(email: string): fc.Arbitrary<LookAlike> {
  const replaceable = [...email].flatMap((char, index) => (COMPATIBLE[char.toLowerCase()] ? [index] : []));
  const ligatures = Object.keys(LIGATURES).filter((pair) => email.includes(pair));
  const options: fc.Arbitrary<LookAlike>[] = [
    fc.tuple(fc.nat(email.length), fc.constantFrom(...INVISIBLES)).map(([i, c]) => ({ kind: 'invisible' as const, email: insertAt(email, i, c) })),
    fc.tuple(fc.nat(email.length), fc.constantFrom(...BIDI_CONTROLS)).map(([i, c]) => ({ kind: 'bidi' as const, email: insertAt(email, i, c) })),
  ];
  if (replaceable.length > 0) {
    options.push(
      fc.tuple(fc.constantFrom(...replaceable), fc.nat()).map(([index, pick]) => {
        const chars = [...email];
        const forms = COMPATIBLE[(chars[index] ?? '').toLowerCase()] ?? [];
        chars[index] = forms[pick % forms.length] ?? '';
        return { kind: 'compatibility' as const, email: chars.join('') };
      }),
    );
  }
  if (ligatures.length > 0) {
    options.push(fc.constantFrom(...ligatures).map((pair) => ({ kind: 'compatibility' as const, email: email.replace(pair, LIGATURES[pair] ?? pair) })));
  }
  return fc.oneof(...options);
}

/** Random ASCII case of an address; non-ASCII characters are left as they are. */
export function asciiCaseArb(email: string): fc.Arbitrary<string> {
  return fc.array(fc.boolean(), { minLength: email.length, maxLength: email.length }).map((upper) =>
    [...email].map((char, index) => (upper[index] && /[a-z]/.test(char) ? char.toUpperCase() : char)).join(''),
  );
}
