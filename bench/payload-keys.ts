/**
 * Benchmarks encrypt Temporal payloads as production does: one key per bench
 * process, handed to the workers and gateways it spawns (benchPayloadEnv) and
 * used by its own clients and workers (benchDataConverter).
 */
import { payloadDataConverter } from '../lib/codec';
import { newKeyEntry } from '../lib/codec/keyring';

export const benchPayloadEnv = { SB_PAYLOAD_KEYS: newKeyEntry('bench') } as const;
export const benchDataConverter = payloadDataConverter(benchPayloadEnv);
