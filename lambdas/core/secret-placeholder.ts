/**
 * The value a freshly deployed Arize API key secret holds until an operator puts the real key in.
 * The stack writes it and the runtime refuses it, so a forgotten step fails with an instruction
 * instead of a stream of 401s recorded as FAILED deletions.
 */
export const ARIZE_API_KEY_PLACEHOLDER = 'REPLACE_ME_WITH_THE_ARIZE_API_KEY';
