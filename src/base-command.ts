import {Command, Errors, Interfaces} from '@oclif/core'

import {CidError, EXIT_USAGE} from './lib/errors.js'
import {type LogFormat, type Logger, createLogger, formatLine} from './lib/log.js'

/**
 * What every command shares: `--json`, one mapping of errors to exit codes (0 ok, 1 runtime failure,
 * 2 usage or configuration), and a logger that writes to stderr so stdout carries only results.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  private logFormat: LogFormat = 'text'

  protected logger(format: LogFormat = 'text'): Logger {
    this.logFormat = format
    return createLogger((line) => process.stderr.write(line), format)
  }

  protected override async catch(error: Interfaces.CommandError): Promise<unknown> {
    if (error instanceof CidError) {
      process.exitCode = error.exitCode
      if (this.jsonEnabled()) {
        this.logJson({error: {code: error.code, message: error.summary, suggestions: error.suggestions}})
      } else if (this.logFormat === 'json') {
        const fields = {code: error.code, exitCode: error.exitCode, suggestions: error.suggestions.join(' ') || undefined}
        process.stderr.write(`${formatLine('json', 'error', error.summary, fields)}\n`)
      } else {
        // Unwrapped, one message per line: these end up in CronJob logs as often as on terminals.
        process.stderr.write(`Error: ${error.summary}\n${error.suggestions.map((s) => `Try: ${s}\n`).join('')}`)
      }

      return undefined
    }

    // oclif's own parse errors (unknown flag, missing value) are usage errors too.
    if (error instanceof Errors.CLIError && !(error instanceof Errors.ExitError)) {
      process.exitCode = EXIT_USAGE
      if (this.jsonEnabled()) this.logJson({error: {code: 'USAGE', message: error.message, suggestions: []}})
      else process.stderr.write(`Error: ${error.message}\n`)
      return undefined
    }

    return super.catch(error)
  }
}
