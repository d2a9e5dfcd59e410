// Every workflow the worker registers; the bundler starts here.
export { llmCall } from './llm-call';
export { probe } from './probe';
export { breakerSupervisor } from './breaker-supervisor';
export { agentChain } from './agent-chain';
export { insightsJob } from './insights';
export { fallbackDrill } from './drill';
