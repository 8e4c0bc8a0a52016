/** The logger library code receives. Formatting lives here; where the lines go is the caller's choice. */
export type Level = 'debug' | 'info' | 'warn' | 'error'
export type Fields = Record<string, string | number | boolean | undefined>

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

export function formatLine(format: LogFormat, level: Level, message: string, fields: Fields = {}, now = new Date()): string {
  if (format === 'json') {
    return JSON.stringify({time: now.toISOString(), level: LEVEL_NAMES[level], logger: LOGGER_NAME, message, ...fields})
  }

  return `${now.toISOString()} ${LEVEL_NAMES[level]} ${LOGGER_NAME}: ${message}`
}

export function createLogger(write: (line: string) => void, format: LogFormat = 'text', clock: () => Date = () => new Date()): Logger {
  const log = (level: Level) => (message: string, fields?: Fields) => write(`${formatLine(format, level, message, fields, clock())}\n`)
  return {debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error')}
}

export const silentLogger: Logger = {debug() {}, info() {}, warn() {}, error() {}}
