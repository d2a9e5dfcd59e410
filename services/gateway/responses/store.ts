/**
 * Switchboard's own durable record of Responses API responses, so
 * `previous_response_id` works on any gateway pod and after a restart: one
 * entry per response in the JetStream KV bucket `sb_responses`, keyed
 * `<tenant>.<responseId>` — tenant ids and response ids cannot contain `.`,
 * so the key is injective and another tenant's id is simply not found (404).
 * The entry holds the conversation as the caller sent it (not masked: it is
 * sent again on the next turn, where the call masks it before any vendor
 * sees it), so it is stored as a Temporal payload through the same payload
 * codecs as everything Temporal keeps (AES-256-GCM with SB_PAYLOAD_KEYS,
 * docs/security.md): NATS holds ciphertext, and a key rotation covers it.
 */
import { createHash } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KV, NatsConnection } from 'nats';
import { buckets, openBucket } from '../../../lib/nats/kv';
import { StoredResponse } from '../../../schemas/responses';
import { GatewayError } from '../http-errors';

/** A record as the bytes of a Temporal payload, encoded by the codecs in order (decoded in reverse). */
async function sealed(record: StoredResponse, codecs: readonly PayloadCodec[]): Promise<Uint8Array> {
  let payloads: Payload[] = [{ metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode(JSON.stringify(record)) }];
  for (const codec of codecs) payloads = await codec.encode(payloads);
  return temporal.api.common.v1.Payload.encode(payloads[0]!).finish();
}

async function opened(bytes: Uint8Array, codecs: readonly PayloadCodec[]): Promise<unknown> {
  let payloads: Payload[] = [temporal.api.common.v1.Payload.decode(bytes)];
  for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
  return JSON.parse(new TextDecoder().decode(payloads[0]!.data ?? new Uint8Array()));
}
const RESPONSE_ID = /^resp_[0-9a-f]{48}$/;

/** The response id of a call: derived from the call id, so an idempotent retry answers with the same id. */
export function responseIdOf(callId: string): string {
  return `resp_${createHash('sha256').update(callId).digest('hex').slice(0, 48)}`;
}

export interface ResponseStore {
  put(record: StoredResponse): Promise<void>;
  /** The tenant's response, or a 404 naming `previous_response_id`. */
  get(tenant: string, id: string): Promise<StoredResponse>;
}

function notFound(id: string): GatewayError {
  return new GatewayError(404, 'invalid_request_error', `previous response "${id}" not found`, {
    code: 'previous_response_not_found',
    param: 'previous_response_id',
  });
}

/** `codecs`: the gateway's Temporal client's payload codecs (none: stored as plain JSON payloads). */
export function createResponseStore(nats: NatsConnection, codecs: readonly PayloadCodec[] = []): ResponseStore {
  let kv: Promise<KV> | undefined;
  const bucket = () =>
    (kv ??= openBucket(nats, buckets.responses, { history: 1 }).catch((error: unknown) => {
      kv = undefined;
      throw error;
    }));
  return {
    async put(record) {
      await (await bucket()).put(`${record.tenant}.${record.id}`, await sealed(record, codecs));
    },
    async get(tenant, id) {
      if (!RESPONSE_ID.test(id)) throw notFound(id);
      const entry = await (await bucket()).get(`${tenant}.${id}`);
      if (!entry || entry.operation !== 'PUT') throw notFound(id);
      const record = StoredResponse.parse(await opened(entry.value, codecs));
      // The key already scopes by tenant; the record says so too.
      if (record.tenant !== tenant) throw notFound(id);
      return record;
    },
  };
}
