/** Bounds on one run. */
import {Flags} from '@oclif/core'

import {parsePositiveInteger, parseSeconds} from '../lib/validate.js'
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
})
