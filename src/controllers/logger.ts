import { pino, type Logger } from 'pino';

/** The logger used when a caller passes none. WEFT_LOG_LEVEL overrides the level. */
export function defaultLogger(): Logger {
  return pino({ level: process.env.WEFT_LOG_LEVEL ?? 'info' });
}
