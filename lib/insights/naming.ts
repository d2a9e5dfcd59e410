/**
 * Asking an LLM to name a rejection cluster and suggest a cause: the request
 * of the child llmCall the insights job makes (structured output, so any
 * vendor answers `{name, cause}`), and reading its answer back. Pure and
 * deterministic (the insights workflow calls it; a replay builds the same
 * request).
 */
import type { LlmRequest } from '../../schemas/llm';
import type { InsightCluster } from './clusters';

export interface NamingTarget {
  route: string;
  tenant: string;
}

/** Structured output every vendor realises its own way (json_schema, forced tool use). */
const namingSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'a short name for the group, at most 6 words' },
    cause: { type: 'string', description: 'the most likely reason users rejected these answers, one sentence' },
  },
  required: ['name', 'cause'],
  additionalProperties: false,
};

const percent = (rate: number) => `${(rate * 100).toFixed(0)}%`;

export function namingRequest(cluster: InsightCluster, target: NamingTarget): LlmRequest {
  const facts = [
    `Group: ${cluster.label}`,
    `Rejected: ${cluster.size} of ${cluster.support}; insert rate ${percent(cluster.insertRate)} against ${percent(cluster.baselineInsertRate)} overall`,
    `Terms that set it apart: ${cluster.terms.join(', ') || 'none'}`,
    `Attributes most of it shares: ${cluster.attributes.join(', ') || 'none'}`,
    'Example inputs:',
    ...cluster.examples.map((e) => `- ${e.replace(/\s+/g, ' ').slice(0, 300)}`),
  ];
  return {
    route: target.route,
    tenant: target.tenant,
    feature: 'insights-naming',
    messages: [
      { role: 'system', content: 'You analyse why users reject answers of a generative-AI product. Be specific and brief.' },
      {
        role: 'user',
        content: `Users rejected the answers to this group of requests far more often than usual.\n${facts.join('\n')}\nName the group and suggest the most likely cause.`,
      },
    ],
    output: { name: 'cluster_naming', schema: namingSchema },
    params: { temperature: 0 },
    stream: false,
  };
}

/** `{name, cause}` from the call's structured output; undefined when the answer has neither. */
export function readNaming(output: unknown): { name: string; cause: string } | undefined {
  if (typeof output !== 'object' || output === null) return undefined;
  const { name, cause } = output as Record<string, unknown>;
  if (typeof name !== 'string' || typeof cause !== 'string' || !name.trim()) return undefined;
  return { name: name.trim().slice(0, 120), cause: cause.trim().slice(0, 500) };
}
