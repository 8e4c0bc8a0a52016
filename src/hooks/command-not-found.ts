import type {Hook} from '@oclif/core'

import {reportFailure} from '../base-command.js'
import {closest} from '../closest.js'
import {UsageError} from '../lib/errors.js'

/**
 * A mistyped command gets the closest command as a suggestion, on a terminal and in CI alike (no
 * prompt), and exit code 2 and the output forms of every usage error. oclif joins the words before
 * the first flag into the id (`export stray` is `export:stray`): after a real command, they are
 * arguments it does not take.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const {bin, commands} = options.config
  const [first = '', ...rest] = options.id.split(':')
  const names = commands.filter(c => !c.hidden).map(c => c.id)
  let error: UsageError
  if (rest.length > 0 && names.includes(first)) {
    error = new UsageError(`Unexpected argument "${rest.join(' ')}": ${bin} ${first} takes flags only`, {
      suggestions: ['Quote a value that contains spaces.', `${bin} ${first} --help lists its flags.`],
    })
  } else {
    const id = options.id.replaceAll(':', ' ')
    const guess = closest(id, names)
    error = new UsageError(
      `${id} is not a ${bin} command.${guess ? ` Did you mean ${guess}?` : ''} Run ${bin} help for the list of commands.`,
    )
  }

  reportFailure(error, options.argv ?? [])
  process.exit(error.exitCode)
}

export default hook
