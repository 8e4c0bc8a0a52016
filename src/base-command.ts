import {Command, Errors, Interfaces} from '@oclif/core'

import {CidError, EXIT_USAGE} from './lib/errors.js'
import {type LogFormat, type Logger, createLogger} from './lib/log.js'

/**
 * What every command shares: `--json`, one mapping of errors to exit codes (0 ok, 1 runtime failure,
 * 2 usage or configuration), and a logger that writes to stderr so stdout carries only results.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  protected logger(format: LogFormat = 'text'): Logger {
    return createLogger((line) => process.stderr.write(line), format)
  }

  protected override async catch(error: Interfaces.CommandError): Promise<unknown> {
    if (error instanceof CidError) {
      process.exitCode = error.exitCode
      if (this.jsonEnabled()) {
        this.logJson({error: {code: error.code, message: error.message, suggestions: error.suggestions}})
        return undefined
      }

      this.error(error.message, {exit: error.exitCode, code: error.code, suggestions: error.suggestions})
    }

    // oclif's own parse errors (unknown flag, missing value) are usage errors too.
    if (error instanceof Errors.CLIError && error.oclif.exit === undefined) error.oclif.exit = EXIT_USAGE
    return super.catch(error)
  }
}
