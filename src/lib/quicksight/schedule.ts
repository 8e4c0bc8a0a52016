import {InvalidInputError} from '../errors.js'
import type {InputName} from '../validate.js'

/**
 * The daily incremental refresh of the dashboard's SPICE dataset, as the original solution set it
 * up by hand: a look-back window on `window.start` (fewer than 4 days misses data Kubecost is still
 * reconciling, and the exporter writes each day three days late), once a day, at least two hours
 * after the crawler has added the newest day.
 */

export const LOOKBACK_COLUMN = 'window.start'
export const MIN_LOOKBACK_DAYS = 4
/** The refresh must start this long after the crawler does, or it reads the table before the newest day is in. */
export const CRAWLER_GAP_MINUTES = 120

export interface TimeOfDay {
  hour: number
  minute: number
}

export const formatTimeOfDay = (t: TimeOfDay) =>
  `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`

/** `HH:MM`, 24-hour, as QuickSight's TimeOfTheDay takes it. */
export function parseTimeOfDay(input: string, name: InputName): TimeOfDay {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(input.trim())
  if (!match)
    throw new InvalidInputError(name.flag, name.env, input, 'not a time of day; use HH:MM (24-hour), e.g. 03:00')
  return {hour: Number(match[1]), minute: Number(match[2])}
}

/** An IANA time zone the runtime knows (QuickSight takes the same names). */
export function parseTimezone(input: string, name: InputName): string {
  const zone = input.trim()
  try {
    // Throws RangeError for a name the runtime's time zone database does not hold.
    new Intl.DateTimeFormat('en-US', {timeZone: zone}).format()
    return zone
  } catch {
    throw new InvalidInputError(name.flag, name.env, input, 'not an IANA time zone name', {
      suggestions: ['For example UTC, Europe/Berlin or America/New_York.'],
    })
  }
}

export function parseLookbackDays(input: string, name: InputName): number {
  const trimmed = input.trim()
  if (!/^\d+$/.test(trimmed)) throw new InvalidInputError(name.flag, name.env, input, 'not a whole number of days')
  const days = Number(trimmed)
  if (days < MIN_LOOKBACK_DAYS) {
    throw new InvalidInputError(
      name.flag,
      name.env,
      input,
      `the look-back window must be at least ${MIN_LOOKBACK_DAYS} days: the exporter writes each day 3 days late and Kubecost reconciles recent days, so a shorter window misses rows`,
    )
  }

  return days
}

/** What a Glue crawler's schedule says about the time it starts each day (UTC, as Glue schedules run). */
export type CrawlerSchedule =
  {kind: 'daily'; at: TimeOfDay; expression: string} | {kind: 'other'; expression: string; reason: string}

/**
 * Reads the daily start time from Glue's `cron(minutes hours day-of-month month day-of-week year)`.
 * Only a single fixed minute and hour every day is daily; anything else (lists, ranges, steps,
 * particular days) is reported as not daily, and the two-hour check is then skipped with that reason
 * rather than guessed at.
 */
export function parseCrawlerCron(expression: string): CrawlerSchedule {
  const match = /^cron\((.*)\)$/.exec(expression.trim())
  const fields = match?.[1]?.trim().split(/\s+/) ?? []
  if (fields.length !== 6) return {kind: 'other', expression, reason: 'it is not a cron(...) expression of six fields'}
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string, string]
  const every = (field: string) => field === '*' || field === '?'
  if (!/^\d{1,2}$/.test(minute) || !/^\d{1,2}$/.test(hour) || Number(minute) > 59 || Number(hour) > 23) {
    return {kind: 'other', expression, reason: 'it does not start at one fixed time of day'}
  }

  if (!every(dayOfMonth) || !every(month) || !every(dayOfWeek))
    return {kind: 'other', expression, reason: 'it does not run every day'}
  return {kind: 'daily', at: {hour: Number(hour), minute: Number(minute)}, expression}
}

/** Minutes east of UTC of `timeZone` at `at` (e.g. 60 for Europe/Berlin in winter). */
export function utcOffsetMinutes(timeZone: string, at: Date): number {
  const name =
    new Intl.DateTimeFormat('en-US', {timeZone, timeZoneName: 'longOffset'})
      .formatToParts(at)
      .find(p => p.type === 'timeZoneName')?.value ?? 'GMT'
  const match = /^GMT([+-])(\d{2}):?(\d{2})?$/.exec(name)
  if (!match) return 0
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0)
  return match[1] === '-' ? -minutes : minutes
}

/**
 * How many minutes after the crawler's daily start the refresh starts, both taken in UTC on `at`
 * (offsets change with daylight saving time, so the answer is for that date), from 0 to 1439.
 */
export function minutesAfterCrawler(refresh: TimeOfDay, timeZone: string, crawlerUtc: TimeOfDay, at: Date): number {
  const refreshUtc = refresh.hour * 60 + refresh.minute - utcOffsetMinutes(timeZone, at)
  const crawler = crawlerUtc.hour * 60 + crawlerUtc.minute
  return (((refreshUtc - crawler) % 1440) + 1440) % 1440
}
