/**
 * The JSON in a NATS message or KV entry, for readers that check what they
 * read with a schema and skip what does not fit. JSONCodec's decode throws on
 * a payload that is not JSON; inside a KV watch or a stream consumer's loop
 * that rejection ends the process, so one stray value in `sb_breakers` or on
 * `sb.call.>` took down every worker and gateway, and again at each restart
 * (the watch replays it).
 */
const decoder = new TextDecoder();

/** The parsed JSON of `data`, or undefined when it is not JSON (which no schema of ours accepts). */
export function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch {
    return undefined;
  }
}
