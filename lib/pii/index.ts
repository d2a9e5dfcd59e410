// PII masking: pure, deterministic and free of Node built-ins, so both
// activities and workflow code may import it.
export { maskPii, maskMessages, textForLog } from './mask';
export type { PiiMaskContext, PiiMaskResult, PiiMaskedMessages } from './mask';
export { restorePii, createStreamRestorer } from './restore';
export type { StreamRestorer } from './restore';
export { derivePiiNonce, rebasePlaceholders, formatPlaceholder, placeholderLabel } from './placeholder';
export { detectPii } from './detect';
export type { PiiSpan } from './detect';
export { isLuhnValid, isIbanChecksumValid, isSpanishIdValid } from './checksums';
