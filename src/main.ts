import {fileURLToPath} from 'node:url'
import {format} from 'node:util'

import {type Interfaces, execute} from '@oclif/core'
import {clearLoggers, getLogger} from '@oclif/core/logger'

import {reportFailure} from './base-command.js'
import {guardOutputStreams} from './output-streams.js'
import {runGuarded} from './run-guard.js'

/** A URL's user and password, up to the last @ before its host (a raw @ may stand in the password). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#'"`]*@/gi

/** `text` with the user and password of every URL in it replaced by `***`. */
export function redactUrlCredentials(text: string): string {
  return text.replaceAll(URL_CREDENTIALS, '$1***@')
}

type Write = (formatter: unknown, ...args: unknown[]) => void

/**
 * oclif's debug logger with URL credentials redacted from every line. With DEBUG set it prints the
 * command line and the argv each command gets, and --kubecost-url and --s3-endpoint may carry a user
 * and password. The line is formatted here, then handed on whole; a namespace DEBUG does not enable
 * (its write function says so) costs nothing.
 */
export function redactingLogger(base: Interfaces.Logger): Interfaces.Logger {
  const redacted =
    (write: Write): Write =>
    (formatter, ...args) => {
      if ((write as {enabled?: boolean}).enabled === false) return
      write('%s', redactUrlCredentials(format(formatter, ...args)))
    }

  return {
    namespace: base.namespace,
    child: namespace => redactingLogger(base.child(namespace)),
    debug: redacted(base.debug),
    error: redacted(base.error),
    info: redacted(base.info),
    trace: redacted(base.trace),
    warn: redacted(base.warn),
  }
}

/**
 * Runs the CLI (`dir`: bin/run.js's URL): output streams that fail end without a stack trace,
 * oclif's own debug logger is redacted, and no command can end with Node's exit code 13.
 */
export async function main(dir: string): Promise<void> {
  // What failed is standard output itself: the error goes to stderr only.
  guardOutputStreams(error => reportFailure(error, process.argv.slice(2), {stdout: false}))
  const logger = redactingLogger(getLogger())
  // getLogger() made oclif's default logger its root; oclif takes the one passed in only when it has none.
  clearLoggers()
  await runGuarded(execute({dir, loadOptions: {root: fileURLToPath(dir), logger}}), process.argv.slice(2))
}
