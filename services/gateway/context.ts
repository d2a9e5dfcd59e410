/** What every gateway handler needs, built once per gateway instance. */
import type { Client } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import type { ChainRegistry } from '../../lib/chains/registry';
import type { LoadGauge } from '../../lib/admission/load-shedding';
import type { Logger } from '../../lib/log';
import type { Outbox } from '../../lib/nats/outbox';
import type { SwitchboardConfig } from '../../schemas/config';
import type { Admission } from './admission';
import type { AdmissionQueue } from './admission-queue';
import type { CallStarter } from './calls';
import type { GatewayMetrics } from './metrics';
import type { ResponseStore } from './responses/store';
import type { TemporalReachability } from './temporal-reachability';
import type { TenantDirectory } from './tenants';

export interface GatewayContext {
  config: SwitchboardConfig;
  client: Client;
  nats: NatsConnection;
  /** Feedback waits here while NATS is away (lib/nats/outbox.ts). */
  outbox: Outbox;
  tenants: TenantDirectory;
  admission: Admission;
  /** Lines of the routes that queue excess requests (config `gateway.admission.queues`). */
  admissionQueue: AdmissionQueue;
  startCall: CallStarter;
  /** Calls in flight in this pod and how fast they finish, for load shedding. */
  load: LoadGauge;
  /** Whether Temporal answers now: a call shed while it does not names Temporal. */
  temporal: TemporalReachability;
  metrics: GatewayMetrics;
  log: Logger;
  /** Chains `POST /v1/chains` may start: config `chains` plus the built-in site planner. */
  chains: ChainRegistry;
  /** Stored Responses API responses, for `previous_response_id` (KV `sb_responses`). */
  responses: ResponseStore;
  /** Task queue of the workflows this gateway starts (default `switchboard`). */
  taskQueue?: string;
}
