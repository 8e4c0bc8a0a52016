import {type SettingId, setting} from './settings.js'
/**
 * The one error hierarchy. Every failure the tool reports is a CidError with a stable code, the exit
 * code it maps to, and suggestions for what to do next. Commands catch CidError and render it;
 * anything else is a bug and surfaces as-is.
 */

export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export interface CidErrorOptions {
  cause?: unknown
  suggestions?: string[]
}

export abstract class CidError extends Error {
  abstract readonly code: string
  abstract readonly exitCode: number
  readonly suggestions: string[]
  /** The message as constructed; `message` may be decorated by the CLI framework on the way out. */
  readonly summary: string

  constructor(message: string, options: CidErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.summary = message
    this.suggestions = options.suggestions ?? []
  }
}

/** Bad flags, environment variables or configuration: exit 2. */
export class ConfigError extends CidError {
  readonly code: string = 'CONFIG'
  readonly exitCode = EXIT_USAGE
}

/** The command line itself is wrong: an unknown flag, a missing required one, a stray argument. */
export class UsageError extends ConfigError {
  override readonly code = 'USAGE'
}

/**
 * A flag value that fails validation; the message names the flag, its env var and the value. The
 * flag layer gives the names; library code gives a setting id instead (`InvalidInputError.of`), which
 * the command layer renders the same way.
 */
export class InvalidInputError extends ConfigError {
  override readonly code = 'INVALID_INPUT'

  constructor(
    readonly flag: string,
    readonly envVar: string | undefined,
    readonly value: string,
    problem: string,
    options: CidErrorOptions & {setting?: SettingId} = {},
  ) {
    const named = options.setting ? setting(options.setting) : `--${flag}${envVar ? ` (${envVar})` : ''}`
    super(`Invalid ${named} "${value}": ${problem}`, options)
  }

  /** The value of setting `id` is invalid; `flag` holds the id, the message the setting's token. */
  static of(id: SettingId, value: string, problem: string, options: CidErrorOptions = {}): InvalidInputError {
    return new InvalidInputError(id, undefined, value, problem, {...options, setting: id})
  }
}

/** What names a value in an InvalidInputError: the flag layer's flag and variable, or library code's setting id. */
export type InputSource = {flag: string; env?: string} | SettingId

export function invalidInput(
  source: InputSource,
  value: string,
  problem: string,
  options: CidErrorOptions = {},
): InvalidInputError {
  return typeof source === 'string'
    ? InvalidInputError.of(source, value, problem, options)
    : new InvalidInputError(source.flag, source.env, value, problem, options)
}

/** Something went wrong talking to Kubecost: exit 1. */
export class KubecostError extends CidError {
  readonly code: string = 'KUBECOST'
  readonly exitCode = EXIT_FAILURE

  /** Worth retrying: the same request may well succeed in a moment. */
  get transient(): boolean {
    return false
  }
}

export type ConnectionFailure =
  'refused' | 'dns' | 'connect-timeout' | 'response-timeout' | 'body-stalled' | 'tls' | 'reset'

export class KubecostConnectionError extends KubecostError {
  override readonly code = 'KUBECOST_CONNECTION'
  readonly reason: ConnectionFailure

  constructor(message: string, options: CidErrorOptions & {reason: ConnectionFailure}) {
    super(message, options)
    this.reason = options.reason
  }

  override get transient(): boolean {
    return this.reason === 'reset' || this.reason === 'connect-timeout'
  }
}

export class KubecostHttpError extends KubecostError {
  override readonly code = 'KUBECOST_HTTP_STATUS'

  constructor(
    message: string,
    readonly status: number,
    options: CidErrorOptions = {},
  ) {
    super(message, options)
  }

  /** Throttling and gateway errors; never other 4xx, which are configuration errors. */
  override get transient(): boolean {
    return [429, 499, 502, 503, 504].includes(this.status)
  }
}

export class KubecostResponseError extends KubecostError {
  override readonly code = 'KUBECOST_BAD_RESPONSE'
}

export class KubecostEmptyDayError extends KubecostError {
  override readonly code = 'KUBECOST_EMPTY_DAY'
}

/** A thread parsing a response body stopped (a defect, or the thread ran out of memory): exit 1. */
export class ParseThreadError extends CidError {
  readonly code = 'PARSE_THREAD'
  readonly exitCode = EXIT_FAILURE
}

/** A destination (local directory or S3) could not be read or written: exit 1. */
export class DestinationError extends CidError {
  readonly code = 'DESTINATION'
  readonly exitCode = EXIT_FAILURE
}

/** An AWS call failed (access denied, credentials, missing resource, throttling...): exit 1. */
export class AwsError extends CidError {
  readonly exitCode = EXIT_FAILURE

  constructor(
    readonly code: string,
    message: string,
    options: CidErrorOptions = {},
  ) {
    super(message, options)
  }
}

/**
 * The local file system refused a read or write (full disk, read-only or missing directory, no
 * permission): exit 1. Never a Kubecost or network problem, so never retried as one.
 */
export class LocalIoError extends CidError {
  readonly code = 'LOCAL_IO'
  readonly exitCode = EXIT_FAILURE

  constructor(
    message: string,
    /** The errno code (`ENOSPC`, `EROFS`...), when the system gave one. */
    readonly errno: string | undefined,
    options: CidErrorOptions = {},
  ) {
    super(message, options)
  }
}

/** A file this tool wrote does not read back as written (changed under the writer, a failing disk): exit 1, never published. */
export class CorruptFileError extends CidError {
  readonly code = 'CORRUPT_FILE'
  readonly exitCode = EXIT_FAILURE
}

/** The run was stopped from outside (SIGTERM, SIGINT): exit 128 + the signal's number, as a shell reports it. */
export class RunAbortedError extends CidError {
  readonly code = 'ABORTED'
  readonly exitCode: number
  /** What the run was doing when it stopped, when known. */
  readonly detail?: string

  constructor(
    readonly signal: 'SIGTERM' | 'SIGINT',
    options: CidErrorOptions & {detail?: string} = {},
  ) {
    super(`Received ${signal}: ${options.detail ?? 'stopping'}`, options)
    this.exitCode = signal === 'SIGINT' ? 130 : 143
    this.detail = options.detail
  }
}

/** The run's overall deadline passed before every day was collected: exit 1. */
export class RunDeadlineError extends CidError {
  readonly code = 'RUN_DEADLINE'
  readonly exitCode = EXIT_FAILURE
  /** The setting that set the deadline, and its value: what a call cut short by it names. */
  readonly limit?: {setting: string; seconds: number}

  constructor(message: string, options: CidErrorOptions & {limit?: {setting: string; seconds: number}} = {}) {
    super(message, options)
    this.limit = options.limit
  }
}

/** One or more days of a multi-day run failed; each was already reported. */
export class PartialFailureError extends CidError {
  readonly code = 'PARTIAL_FAILURE'
  readonly exitCode = EXIT_FAILURE
}

/** A command left waiting on something that can no longer happen (a defect): exit 1, never Node's 13. */
export class UnfinishedError extends CidError {
  readonly code = 'UNFINISHED'
  readonly exitCode = EXIT_FAILURE
}

export function describeCause(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
