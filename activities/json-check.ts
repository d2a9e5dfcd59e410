/**
 * JSON Schema checks for workflow code. The checker is zod (`z.fromJSONSchema`),
 * and workflow code must not import zod: the worker evaluates a workflow's
 * whole module graph on every run, and zod alone cost ~15 ms of CPU per call.
 * So the agent chain asks this local activity (same process, no task queue
 * round trip; its result is recorded, so replays never re-run it).
 */
import { checkJsonSchema } from '../lib/validation/json-schema';
import type { JsonSchema } from '../schemas/llm';
import type { ValidationFailure } from '../schemas/validation';

export function createJsonCheckActivities() {
  return {
    /** One `json_schema` failure per issue (at most 5); [] when the value conforms. */
    async checkJsonValue(input: { value: unknown; schema: JsonSchema }): Promise<ValidationFailure[]> {
      return checkJsonSchema(input.value, input.schema);
    },
  };
}
