/** Bounds on one run. */
import {availableParallelism} from 'node:os'

import {Flags} from '@oclif/core'

import {RunDeadlineError} from '../lib/errors.js'
import {setting} from '../lib/settings.js'
import {parsePositiveInteger, parseSeconds, parseWholeNumber} from '../lib/validate.js'
import {inGroup, input} from './common.js'

export const limitFlags = inGroup('LIMITS', {
  'run-deadline': Flags.custom<number>({
    ...input({flag: 'run-deadline', env: 'RUN_DEADLINE'}, parseSeconds),
    description:
      "stop collecting after this many seconds: the day in progress and the days left fail (the next run collects them) [default: none; the CronJob's activeDeadlineSeconds still applies]",
  })(),
  'max-rows-per-day': Flags.custom<number>({
    ...input({flag: 'max-rows-per-day', env: 'MAX_ROWS_PER_DAY'}, parsePositiveInteger),
    description:
      'fail a day whose answer holds more allocations than this (a bound on the scratch disk a broken answer can fill); with --split-by-cluster, per cluster',
    default: 2_000_000,
  })(),
  'parse-threads': Flags.custom<number>({
    ...input({flag: 'parse-threads', env: 'PARSE_THREADS'}, (value, n) =>
      parseWholeNumber(value, n, {min: 0, max: MAX_PARSE_THREADS}),
    ),
    description:
      "threads that parse Kubecost's allocation answer beside the main one, which then only reads it and writes the file (0: the main thread does it all; --split-by-cluster always does)",
    default: async () => defaultParseThreads(),
    defaultHelp: async () => '1 when the process may use 2 CPUs or more (a cgroup CPU limit counts), else 0',
  })(),
})

const MAX_PARSE_THREADS = 8

/** One parse thread when there is a second CPU to run it (Node counts the container's CPU limit): more gains little. */
export function defaultParseThreads(cpus = availableParallelism()): number {
  return cpus >= 2 ? 1 : 0
}

/** What `--run-deadline` asks of the run's abort signal: when it passes, and the error it ends the day with. */
export function runDeadline(ms: number | undefined): {ms: number; error: () => RunDeadlineError} | undefined {
  if (ms === undefined) return undefined
  return {
    ms,
    error: () =>
      new RunDeadlineError(
        `The run deadline of ${ms / 1000} s (--run-deadline, RUN_DEADLINE) passed before this day was written`,
        {
          limit: {setting: setting('runDeadline'), seconds: ms / 1000},
          suggestions: [
            'Raise --run-deadline (RUN_DEADLINE), or collect fewer days per run with --backfill-days; the next run collects the days left.',
          ],
        },
      ),
  }
}

/**
 * How long the AWS calls of a call that is still unanswered when a command's wait ends (`--timeout`)
 * may go on: the wait's last poll, made at that moment, answers well within it.
 */
const WAIT_GRACE_MS = 5000

/**
 * A command's `--timeout` as a bound on the run's AWS calls: a call still unanswered shortly after
 * it passes (a stalled service) is cut off, and its error names the call and `--timeout`. The wait
 * itself ends at `--timeout` with its own message.
 */
export function waitDeadline(ms: number, subject: string): {ms: number; error: () => RunDeadlineError} {
  const seconds = ms / 1000
  return {
    ms: ms + WAIT_GRACE_MS,
    error: () =>
      new RunDeadlineError(`Stopped waiting for ${subject}: ${setting('timeout')} of ${seconds} s passed`, {
        limit: {setting: setting('timeout'), seconds},
        suggestions: [`Raise ${setting('timeout')} (now ${seconds} s).`],
      }),
  }
}
