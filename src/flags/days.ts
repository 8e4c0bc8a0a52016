/** Which days: an explicit range and forced re-collection. */
import {Flags} from '@oclif/core'

import {type Day, isDay} from '../lib/dates.js'
import {ConfigError, InvalidInputError} from '../lib/errors.js'
import {flagSource, inGroup, input} from './common.js'

const day = (flag: string, description: string) =>
  Flags.custom({
    ...input({flag}, (value, n) => {
      const trimmed = value.trim()
      if (!isDay(trimmed)) throw new InvalidInputError(n.flag, n.env, value, 'not a date; use YYYY-MM-DD (UTC)')
      return trimmed
    }),
    description,
  })()

export const rangeFlags = inGroup('DAYS', {
  from: day('from', 'first day of the candidate range (YYYY-MM-DD, UTC); replaces --backfill-days'),
  to: day('to', 'last day of the candidate range (YYYY-MM-DD, UTC; default and latest: today-3)'),
  force: Flags.boolean({
    description: 're-collect present days of the --from/--to range (e.g. after Kubecost reconciled them with the bill)',
    default: false,
  }),
})

/** --force re-collects only a range the user names: forcing all candidate days by accident helps nobody. */
export function checkForce(flags: {force: boolean; from?: Day}): void {
  if (flags.force && !flags.from) {
    throw new ConfigError('--force needs --from: name the days to re-collect', {
      suggestions: ['For example --force --from 2026-01-01 --to 2026-01-07.'],
    })
  }
}

/** The candidate range as the flags give it, for the plan that export and backfill-plan share. */
export function rangeOptions(
  flags: {'backfill-days': number; from?: Day; to?: Day; force: boolean; now?: Date},
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
) {
  return {
    backfillDays: flags['backfill-days'],
    // Only a --backfill-days the user gave deserves a warning when --from replaces it.
    backfillDaysGiven: flagSource(argv, 'backfill-days', 'BACKFILL_PERIOD_DAYS', env) !== undefined,
    from: flags.from,
    to: flags.to,
    force: flags.force,
    now: flags.now ?? new Date(),
  }
}
