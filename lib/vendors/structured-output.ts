import { VendorFailure } from './errors';

/**
 * Parses a structured answer; text that is not JSON is an invalid output
 * (repairable, never a breaker failure).
 */
export function parseStructuredOutput(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new VendorFailure({
      outcome: 'invalid_output',
      errorType: 'json_parse',
      message: `structured output "${name}" is not valid JSON (${text.length} chars)`,
    });
  }
}
