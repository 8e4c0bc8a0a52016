/**
 * Setting up the dataset's daily incremental refresh for good: the look-back window, one daily
 * schedule, and a check that it starts at least two hours after the crawler's daily run (the crawl
 * must have added the newest day). The AWS calls are handed in, so this is plain logic.
 */
import {CidError} from '../errors.js'
import {flag} from '../settings.js'
import type {Change} from './refresh.js'
import {
  CRAWLER_GAP_MINUTES,
  type TimeOfDay,
  formatTimeOfDay,
  minutesAfterCrawler,
  parseCrawlerCron,
} from './schedule.js'

export interface ScheduleResult {
  dataSetId: string
  accountId: string
  region: string
  lookback: {column: string; days: number; change: string}
  /** Absent (with the crawler check) when setting it failed after the window was set. */
  schedule?: {id: string; time: string; timezone: string; refreshType: 'INCREMENTAL_REFRESH'; change: string}
  crawler?: CrawlerCheck
  warnings: string[]
}

/** What was set up, and the failure that stopped the set-up after the window was written. */
export interface ScheduleRun {
  result: ScheduleResult
  failure?: CidError
}

/** How long after the crawler's daily start the refresh runs, or a note saying why that was not checked. */
export interface CrawlerCheck {
  name: string
  schedule?: string
  minutesBefore?: number
  note?: string
}

export interface WantedSchedule {
  time: TimeOfDay
  timezone: string
}

/**
 * The crawler check from what reading the crawler's schedule gave (its expression, none, or the
 * error): a schedule that cannot be read or is not daily is a note, never a failure.
 */
export function crawlerCheck(
  name: string,
  read: {expression?: string} | {error: CidError},
  wanted: WantedSchedule,
  at: Date,
): CrawlerCheck {
  const skipped = (why: string) =>
    `Could not check the refresh against crawler ${name}: ${why}; the two-hour check was skipped.`
  if ('error' in read)
    return {name, note: [skipped(read.error.summary), ...read.error.suggestions.slice(0, 1)].join(' ')}
  const {expression} = read
  if (!expression) return {name, note: skipped('it has no schedule (it runs on demand)')}
  const parsed = parseCrawlerCron(expression)
  if (parsed.kind === 'other')
    return {name, schedule: expression, note: skipped(`its schedule ${expression} is not daily: ${parsed.reason}`)}
  return {name, schedule: expression, minutesBefore: minutesAfterCrawler(wanted.time, wanted.timezone, parsed.at, at)}
}

export interface ConfigureDeps {
  ensureLookback(days: number): Promise<Change>
  ensureDailySchedule(wanted: WantedSchedule): Promise<{id: string; change: string}>
  /** The crawler's schedule expression, undefined when it has none; a CidError when it cannot be read. */
  crawlerSchedule(name: string): Promise<string | undefined>
  now?: () => Date
}

export interface ConfigureOptions {
  dataSetId: string
  accountId: string
  region: string
  lookbackDays: number
  wanted: WantedSchedule
  crawler: string
}

export async function configureRefresh(deps: ConfigureDeps, options: ConfigureOptions): Promise<ScheduleRun> {
  const {wanted, crawler: name} = options
  const lookback = await deps.ensureLookback(options.lookbackDays)
  const base = {
    dataSetId: options.dataSetId,
    accountId: options.accountId,
    region: options.region,
    lookback: {column: 'window.start', days: options.lookbackDays, change: lookback},
  }
  let schedule: {id: string; change: string}
  try {
    schedule = await deps.ensureDailySchedule(wanted)
  } catch (error) {
    // The window may be written by now: it is reported with the failure.
    if (!(error instanceof CidError)) throw error
    return {result: {...base, warnings: []}, failure: error}
  }

  let read: {expression?: string} | {error: CidError}
  try {
    read = {expression: await deps.crawlerSchedule(name)}
  } catch (error) {
    if (!(error instanceof CidError)) throw error
    read = {error}
  }

  const crawler = crawlerCheck(name, read, wanted, (deps.now ?? (() => new Date()))())
  const warnings: string[] = []
  if (crawler.minutesBefore !== undefined && crawler.minutesBefore < CRAWLER_GAP_MINUTES) {
    warnings.push(
      `The refresh at ${formatTimeOfDay(wanted.time)} ${wanted.timezone} starts ${crawler.minutesBefore} min after crawler ${name} (${crawler.schedule ?? ''}, UTC): less than two hours, so it may read the table before the newest day is in. Set ${flag('scheduleTime')} at least two hours after the crawler.`,
    )
  }

  if (crawler.note) warnings.push(crawler.note)
  return {
    result: {
      ...base,
      schedule: {
        id: schedule.id,
        time: formatTimeOfDay(wanted.time),
        timezone: wanted.timezone,
        refreshType: 'INCREMENTAL_REFRESH',
        change: schedule.change,
      },
      crawler,
      warnings,
    },
  }
}

/** The lines the command prints for a configured schedule: the window, then the schedule when it was set. */
export function scheduleLines(result: ScheduleResult): string[] {
  const {schedule} = result
  return [
    `Incremental refresh window: ${result.lookback.days} days on window.start (${result.lookback.change})`,
    ...(schedule
      ? [`Daily incremental refresh ${schedule.id} at ${schedule.time} ${schedule.timezone} (${schedule.change})`]
      : []),
  ]
}
