import pino, { type Logger } from 'pino';

/**
 * Paths pino blanks in every log line. API keys live only in the secrets map
 * and SDK clients, but a careless `log.info({ upstream })` must still not leak one.
 */
const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'headers["x-api-key"]',
  '*.secrets',
  'secrets',
];

/** JSON logs on stdout (or `destination`), with secrets redacted. */
export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name ?? 'switchboard',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}

/**
 * The pino level of a config `logging.verbosity`: `minimal` shows warnings
 * and errors (breaker, failover and config transitions are logged at warn,
 * so they show too); `standard` adds one info line per attempt; `extended`
 * adds debug lines with request and response details (prompts as masked).
 */
export function levelForVerbosity(verbosity: 'minimal' | 'standard' | 'extended'): 'warn' | 'info' | 'debug' {
  return verbosity === 'minimal' ? 'warn' : verbosity === 'standard' ? 'info' : 'debug';
}

export type { Logger };
