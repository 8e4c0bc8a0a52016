import {escapeControl, jsonSafe} from './sanitize.js'

/** The logger library code receives. Formatting lives here; where the lines go is the caller's choice. */
export type Level = 'debug' | 'info' | 'warn' | 'error'
export type Fields = Record<string, string | number | boolean | readonly string[] | undefined>

export interface Logger {
  debug(message: string, fields?: Fields): void
  info(message: string, fields?: Fields): void
  warn(message: string, fields?: Fields): void
  error(message: string, fields?: Fields): void
}

export type LogFormat = 'text' | 'json'
export const LOG_FORMATS = ['text', 'json'] as const

/** The old exporter's logger name, kept so existing log queries and alerts still match. */
export const LOGGER_NAME = 'kubecost-s3-exporter'

const LEVEL_NAMES: Record<Level, string> = {debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR'}

/**
 * One log line. Messages carry text from outside (Kubecost's bodies and messages, server names), so
 * control characters are escaped in both formats: a message can never start a line of its own or
 * send a terminal escape sequence. JSON already escapes C0 controls; DEL, C1 and the Unicode
 * separators are escaped too, as \u sequences, which keeps the line valid JSON.
 */
export function formatLine(
  format: LogFormat,
  level: Level,
  message: string,
  fields: Fields = {},
  now = new Date(),
): string {
  if (format === 'json') {
    const line = JSON.stringify({
      time: now.toISOString(),
      level: LEVEL_NAMES[level],
      logger: LOGGER_NAME,
      message,
      ...fields,
    })
    return jsonSafe(line)
  }

  return `${now.toISOString()} ${LEVEL_NAMES[level]} ${LOGGER_NAME}: ${escapeControl(message)}`
}

export function createLogger(
  write: (line: string) => void,
  format: LogFormat = 'text',
  clock: () => Date = () => new Date(),
): Logger {
  const log = (level: Level) => (message: string, fields?: Fields) =>
    write(`${formatLine(format, level, message, fields, clock())}\n`)
  return {debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error')}
}

export const silentLogger: Logger = {debug() {}, info() {}, warn() {}, error() {}}
