import {Command, Errors, Interfaces, ux} from '@oclif/core'

import type {AwsSession, SessionOptions} from './lib/aws/session.js'
import {CidError, EXIT_FAILURE, RunAbortedError, RunDeadlineError} from './lib/errors.js'
import {type LogFormat, type Logger, createLogger, formatLine} from './lib/log.js'
import {escapeControl, jsonSafe} from './lib/sanitize.js'
import {type SettingLookup, renderSettings, renderSettingsDeep} from './lib/settings.js'
import type {ProgressEvent} from './lib/wait.js'
import {progressMode, withProgress} from './progress.js'
import {settingLookup} from './settings.js'
import {type CommandLine, usageError} from './usage-errors.js'

/** After a SIGTERM, how long the run may take to drop its day and clean up before it is ended anyway. */
const TERMINATION_GRACE_MS = 10_000

/** A failure as --json prints it (`{"error": shape}`) and as JSON logs end (the ERROR line's fields). */
export interface ErrorShape {
  code: string
  message: string
  exitCode: number
  suggestions: string[]
}

/**
 * What every command shares: `--json`, one mapping of errors to exit codes (0 ok, 1 runtime failure,
 * 2 usage or configuration, 128+n for a signal), a logger that writes to stderr so stdout carries only
 * results, and the run's abort signal (SIGTERM, SIGINT, a deadline).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  private logFormat: LogFormat = 'text'
  private readonly cleanups: Array<() => void> = []
  private readonly resources: AsyncDisposable[] = []
  private lookup: SettingLookup | undefined
  /** Aborts when the process is told to stop: every command's work, and every AWS call, ends with it. */
  private readonly stop = new AbortController()
  /** Set by failedWith: the run produced a result and failed in part. */
  private partialFailure: ErrorShape | undefined

  /** Before parsing: a usage error must already come out in the log format asked for. */
  override async init(): Promise<void> {
    this.logFormat = earlyLogFormat(this.argv, process.env.LOG_FORMAT)
    this.handleSignals()
    await super.init()
  }

  /** The run's logger, in `format` (a command's --log-format), else in the one LOG_FORMAT or the command line asked for. */
  protected logger(format: LogFormat = this.logFormat): Logger {
    this.logFormat = format
    return createLogger(line => process.stderr.write(this.named(line)), format)
  }

  /** Library text with its setting tokens (src/lib/settings.ts) named as this CLI's flags and environment variables. */
  protected named(text: string): string {
    return renderSettings(text, this.settings())
  }

  private settings(): SettingLookup {
    this.lookup ??= settingLookup([this.ctor.flags, ...this.config.commands.map(c => c.flags)])
    return this.lookup
  }

  override log(message = '', ...args: unknown[]): void {
    super.log(this.named(message), ...args)
  }

  /** Results carry text from Kubecost: DEL, C1 controls and U+2028/9 go out as \u escapes (the same JSON). */
  override logJson(json: unknown): void {
    ux.stdout(jsonSafe(ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json})))
  }

  /** The result, or after failedWith `{error, result}`: the failure in the same field as every failure's. */
  override toSuccessJson(result: unknown): unknown {
    const rendered: unknown = renderSettingsDeep(super.toSuccessJson(result), this.settings())
    return this.partialFailure ? {error: this.partialFailure, result: rendered} : rendered
  }

  /**
   * Every command stops on SIGTERM (Kubernetes at activeDeadlineSeconds, a node drain) and SIGINT
   * (a terminal): a handler is what makes SIGTERM reach a node that runs as PID 1, which ignores it
   * otherwise. The signal is logged at once, whatever the run is doing; the run's abort signal then
   * ends its work and its AWS calls. If it does not wind down within the grace period, or a second
   * signal arrives, the process is ended.
   */
  private handleSignals(): void {
    const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
      const reason = new RunAbortedError(signal)
      if (this.stop.signal.aborted) process.exit(reason.exitCode)
      const line = `Received ${signal}: stopping (ending at once if it takes over ${TERMINATION_GRACE_MS / 1000} s)`
      process.stderr.write(`${formatLine(this.logFormat, 'warn', line, {signal})}\n`)
      this.stop.abort(reason)
      setTimeout(() => process.exit(reason.exitCode), TERMINATION_GRACE_MS).unref()
    }

    const onTerm = () => onSignal('SIGTERM')
    const onInt = () => onSignal('SIGINT')
    process.on('SIGTERM', onTerm)
    process.on('SIGINT', onInt)
    this.cleanups.push(() => {
      process.off('SIGTERM', onTerm)
      process.off('SIGINT', onInt)
    })
  }

  /** The run's abort signal: it aborts on SIGTERM or SIGINT, and when `deadline` passes. */
  protected abortSignal(deadline?: {ms: number; error: () => RunDeadlineError}): AbortSignal {
    if (!deadline) return this.stop.signal
    const expiry = new AbortController()
    const timer = setTimeout(() => expiry.abort(deadline.error()), deadline.ms)
    timer.unref()
    this.cleanups.push(() => clearTimeout(timer))
    return AbortSignal.any([this.stop.signal, expiry.signal])
  }

  /**
   * Ends a run that produced a result but failed in part (some days, some checks). Under --json it
   * prints `{"error": {...}, "result": {...}}`, so a pipeline checks one field, `error`, for every
   * failure and still gets the outcomes; otherwise the error is reported as every error is. JSON logs
   * end with the ERROR line either way.
   */
  protected failedWith<T>(result: T, error: CidError): T {
    if (!this.jsonEnabled()) throw error
    this.partialFailure = this.shapeOf(error)
    process.exitCode = this.partialFailure.exitCode
    if (this.logFormat === 'json') process.stderr.write(errorLogLine(this.partialFailure))
    return result
  }

  /** Registers a resource of the run (an AWS session, a Kubecost client) to be disposed of when the command ends, on every path. */
  protected use<T extends AsyncDisposable>(resource: T): T {
    this.resources.push(resource)
    return resource
  }

  /**
   * Opens the run's AWS session; its clients are destroyed when the command ends, and its calls
   * end with the run's abort signal (or `signal`, one that includes it). The region comes from the
   * command's --region, the environment or the profile; without one the command is refused, unless
   * it has a fallback of its own (the cluster's region).
   */
  protected async awsSession(
    options: Omit<SessionOptions, 'env'> & {env?: SessionOptions['env']},
  ): Promise<AwsSession> {
    const {AwsSession} = await import('./lib/aws/session.js')
    return this.use(await AwsSession.open({env: process.env, signal: this.stop.signal, ...options}))
  }

  /** Runs `work`, showing its progress events as this run's output wants them (see progress.ts). */
  protected async withProgress<T>(
    title: string,
    logger: Logger,
    logFormat: LogFormat,
    work: (report: (event: ProgressEvent) => void) => Promise<T>,
    failure?: (value: T) => Error | undefined,
  ): Promise<T> {
    const mode = progressMode({json: this.jsonEnabled(), isTTY: process.stderr.isTTY, logFormat})
    return withProgress(title, mode, logger, work, failure)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    // Last in, first out: what was opened later may depend on what was opened before.
    for (const resource of this.resources.splice(0).reverse()) await resource[Symbol.asyncDispose]()
    return super.finally(error)
  }

  protected override async catch(error: Interfaces.CommandError): Promise<unknown> {
    // oclif's own exits (--help, --version) are not failures.
    if (error instanceof Errors.ExitError) return super.catch(error)
    const shape = this.shapeOf(error)
    process.exitCode = shape.exitCode
    if (this.jsonEnabled()) this.logJson({error: shape})
    if (this.logFormat === 'json') {
      process.stderr.write(errorLogLine(shape))
    } else if (!this.jsonEnabled()) {
      process.stderr.write(errorText(shape))
      if (!(error instanceof CidError) && !(error instanceof Errors.CLIError) && error.stack) {
        process.stderr.write(`${error.stack}\n`)
      }
    }

    return undefined
  }

  private shapeOf(error: Error): ErrorShape {
    const command = {bin: this.config.bin, id: this.id ?? '', flags: this.ctor.flags}
    return renderSettingsDeep(errorShape(error, command), this.settings())
  }
}

/** A failure as text on stderr: unwrapped, one message per line, as these end up in CronJob logs as often as on terminals. */
export function errorText(shape: ErrorShape): string {
  const lines = [`Error: ${shape.message}`, ...shape.suggestions.map(s => `Try: ${s}`)]
  return lines.map(l => `${escapeControl(l)}\n`).join('')
}

/** A failure as the last line of a JSON log: the --json error's fields, suggestions an array there too. */
export function errorLogLine(shape: ErrorShape): string {
  const fields = {code: shape.code, exitCode: shape.exitCode, suggestions: shape.suggestions}
  return `${formatLine('json', 'error', shape.message, fields)}\n`
}

/**
 * A failure outside a command's own catch (a mistyped command, a stalled run's last moments, an output
 * stream that broke), in the forms the command line asks for: `{"error": …}` on stdout under --json
 * (unless stdout is what failed), the ERROR line of a JSON log, or the text on stderr.
 */
export function reportFailure(error: CidError, argv: readonly string[], options: {stdout?: boolean} = {}): void {
  const shape = {code: error.code, message: error.summary, exitCode: error.exitCode, suggestions: error.suggestions}
  const json = argv.includes('--json') && options.stdout !== false
  if (json) process.stdout.write(`${JSON.stringify({error: shape}, undefined, 2)}\n`)
  if (earlyLogFormat(argv, process.env.LOG_FORMAT) === 'json') process.stderr.write(errorLogLine(shape))
  else if (!json) process.stderr.write(errorText(shape))
}

/** `--log-format json` (or `=json`) on the command line, else LOG_FORMAT, read leniently before the flags are parsed. */
export function earlyLogFormat(argv: readonly string[], env: string | undefined): LogFormat {
  const index = argv.findIndex(a => a === '--log-format' || a.startsWith('--log-format='))
  const value = index === -1 ? env : argv[index]?.includes('=') ? argv[index].split('=')[1] : argv[index + 1]
  return value?.trim().toLowerCase() === 'json' ? 'json' : 'text'
}

/** Every failure in one shape, whatever raised it: ours, oclif's parser, or something unexpected. */
function errorShape(error: Error, command: CommandLine): ErrorShape {
  if (error instanceof CidError) {
    return {code: error.code, message: error.summary, exitCode: error.exitCode, suggestions: error.suggestions}
  }

  // oclif's own parse errors (unknown flag, missing value) are usage errors too.
  if (error instanceof Errors.CLIError) return errorShape(usageError(error, command), command)
  return {
    code: 'UNEXPECTED',
    message: `Unexpected failure: ${error.message}`,
    exitCode: EXIT_FAILURE,
    suggestions: ['This is a bug in kubecost-cid; please report it with the output above.'],
  }
}
