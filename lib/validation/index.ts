// Output validation: pure, deterministic and free of Node built-ins, so both
// activities and workflow code may import it.
export { validateOutput, resolveBounds, UnknownValidatorError, isUnknownValidatorError } from './validate-output';
export type { CustomValidator, ValidateOutputOptions } from './validate-output';
export { repairInstruction } from './repair';
export { secondLookMessages, parseSecondLookVerdict } from './second-look';
export type { SecondLookVerdict } from './second-look';
export { compileOutputSchema, checkJsonSchema, formatJsonPath, OutputSchemaError, isOutputSchemaError } from './json-schema';
export { countChars, countWords, unspacedCharsPerWord } from './text-length';
