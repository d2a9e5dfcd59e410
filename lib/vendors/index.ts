import type { Protocol } from '../../schemas/config';
import { createAnthropicClient } from './anthropic';
import { createOpenAiClient } from './openai';
import type { VendorClient, VendorClientOptions } from './types';

export function createVendorClient(protocol: Protocol, options: VendorClientOptions): VendorClient {
  return protocol === 'openai' ? createOpenAiClient(options) : createAnthropicClient(options);
}

export { classifyVendorError } from './classify';
export { isVendorFailure, isVendorProtocolError, VendorFailure, VendorProtocolError, type VendorFailureInfo } from './errors';
export type { VendorCallRequest, VendorCallResult, VendorClient, VendorClientOptions } from './types';
