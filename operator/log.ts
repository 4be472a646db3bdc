// The operator's one logger: JSON lines with levels (pino) in a cluster, plain lines in tests.
//
// Every part of the operator logs through a Logger, so `--log-level` applies everywhere and a
// log shipper gets one shape: {"level":"warn","time":…,"component":"informer","msg":…}.
// Private keys never belong in a log; as a last guard, anything that looks like a PEM private
// key block in a message or a field is replaced before it is written.
import pino from 'pino';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. the component). */
  child(fields: LogFields): Logger;
}

const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;
export const REDACTED = '[redacted private key]';

/** The text with every PEM private key block (or a truncated one) replaced. */
export function scrubPrivateKeys(text: string): string {
  return text.replace(PEM_PRIVATE_KEY, REDACTED);
}

function scrubFields(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return undefined;
  const json = JSON.stringify(fields);
  if (!PEM_PRIVATE_KEY.test(json)) return fields;
  PEM_PRIVATE_KEY.lastIndex = 0;
  return JSON.parse(scrubPrivateKeys(json)) as LogFields;
}

/** JSON lines on `destination` (default stderr), at `level` and above. */
export function jsonLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  const base = pino(
    {
      level,
      base: undefined, // no pid and hostname on every line: the pod is known to the shipper
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrapPino(base);
}

function wrapPino(instance: pino.Logger): Logger {
  const at =
    (method: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      const clean = scrubFields(fields);
      if (clean) instance[method](clean, scrubPrivateKeys(message));
      else instance[method](scrubPrivateKeys(message));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrapPino(instance.child(scrubFields(fields) ?? {})),
  };
}

/**
 * Plain lines handed to `sink` ("message {fields}"), at `level` and above: for tests, which
 * search an operator's lines for what it said.
 */
export function lineLogger(sink: (line: string) => void, level: LogLevel = 'debug', bound: LogFields = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at =
    (method: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(method) < threshold) return;
      const all = scrubFields({ ...bound, ...fields });
      const suffix = all && Object.keys(all).length > 0 ? ` ${JSON.stringify(all)}` : '';
      sink(`${scrubPrivateKeys(message)}${suffix}`);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => lineLogger(sink, level, { ...bound, ...fields }),
  };
}

export function parseLogLevel(value: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
}
