/**
 * Every command ends with one of the CLI's own exit codes, even when a step of it waits on something
 * that does not hold Node's event loop open (an unref'd timer, socket or thread). Node ends such a
 * process as soon as the loop is empty, with exit code 13 (an unsettled top-level await) and no word
 * of what happened. Instead, the loop is held open a while: long enough for such a handle to fire and
 * the command to finish as it would have, with its summary. If the loop empties again with the command
 * unfinished, nothing is left that could finish it: the process says so and ends with exit code 1.
 */
import {reportFailure} from './base-command.js'
import {EXIT_FAILURE, UnfinishedError} from './lib/errors.js'

/** How long the event loop is held open for a command left waiting on a handle that does not hold it. */
export const GRACE_MS = 10_000

/** Awaits `command` (started with the arguments `argv`) so that it cannot end the process with Node's exit code 13. */
export async function runGuarded(
  command: Promise<unknown>,
  argv: readonly string[],
  options: {graceMs?: number} = {},
): Promise<void> {
  let grace: NodeJS.Timeout | undefined
  const onEmptyLoop = () => {
    if (!grace) {
      grace = setTimeout(() => undefined, options.graceMs ?? GRACE_MS)
      return
    }

    process.off('beforeExit', onEmptyLoop)
    // Set before the process ends, this is its exit code instead of 13.
    process.exitCode = EXIT_FAILURE
    reportUnfinished(argv)
  }

  process.on('beforeExit', onEmptyLoop)
  try {
    await command
  } finally {
    clearTimeout(grace)
    process.off('beforeExit', onEmptyLoop)
  }
}

/** The failure in the forms the command line asked for, as every error. */
function reportUnfinished(argv: readonly string[]): void {
  const error = new UnfinishedError(
    'The command stopped before it finished: it was left waiting on something that can no longer happen (a bug in kubecost-cid).',
    {
      suggestions: [
        'Run it again: an export publishes only complete files, and its next run collects the days this one did not. If this repeats, report it with the output above.',
      ],
    },
  )
  reportFailure(error, argv)
}
