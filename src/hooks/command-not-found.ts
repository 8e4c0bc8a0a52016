import type {Hook} from '@oclif/core'

import {EXIT_USAGE} from '../lib/errors.js'

/** Edit distance, for "did you mean": commands are few and short. */
export function distance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    }

    previous = current
  }

  return previous[b.length] ?? 0
}

/**
 * A mistyped command gets the closest command as a suggestion, on a terminal and in CI alike (no
 * prompt), and exit code 2 like every usage error.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const commands = options.config.commands.filter(c => !c.hidden).map(c => c.id)
  const [closest] = commands
    .map(id => ({id, score: id.startsWith(options.id) || options.id.startsWith(id) ? 0 : distance(options.id, id)}))
    .sort((a, b) => a.score - b.score)
  const guess =
    closest && closest.score <= Math.max(2, Math.floor(options.id.length / 3)) ? ` Did you mean ${closest.id}?` : ''
  process.stderr.write(
    `Error: ${options.id} is not a ${options.config.bin} command.${guess} Run ${options.config.bin} help for the list of commands.\n`,
  )
  process.exit(EXIT_USAGE)
}

export default hook
