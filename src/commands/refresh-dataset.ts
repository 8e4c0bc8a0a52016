import {randomUUID} from 'node:crypto'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {input, logFlags} from '../flags.js'
import type {QuickSightApi} from '../lib/aws/quicksight.js'
import type {AwsSession} from '../lib/aws/session.js'
import {AwsError, CidError} from '../lib/errors.js'
import type {Logger} from '../lib/log.js'
import {parseAccountId} from '../lib/policy/principals.js'
import {
  DEFAULT_DATASET_ID,
  type Ingestion,
  REFRESH_TYPES,
  type RefreshType,
  ingestionPoll,
  rowReport,
} from '../lib/quicksight/refresh.js'
import {
  CRAWLER_GAP_MINUTES,
  MIN_LOOKBACK_DAYS,
  type TimeOfDay,
  formatTimeOfDay,
  minutesAfterCrawler,
  parseCrawlerCron,
  parseLookbackDays,
  parseTimeOfDay,
  parseTimezone,
} from '../lib/quicksight/schedule.js'
import {parseChoice, parsePositiveInteger, parseRegion, parseSeconds} from '../lib/validate.js'
import {WaitTimeoutError, waitFor} from '../lib/wait.js'
import {progressMode, withProgress} from '../progress.js'

export interface RefreshResult {
  dataSetId: string
  accountId: string
  region: string
  ingestion: Ingestion
  /** Joined an ingestion that was already queued or running instead of starting one. */
  attached: boolean
  waited: boolean
}

export interface ScheduleResult {
  dataSetId: string
  accountId: string
  region: string
  lookback: {column: string; days: number; change: string}
  schedule: {id: string; time: string; timezone: string; refreshType: 'INCREMENTAL_REFRESH'; change: string}
  crawler: {name: string; schedule?: string; minutesBefore?: number; note?: string}
  warnings: string[]
}

export default class RefreshDataset extends BaseCommand {
  static override summary =
    'Refresh the QuickSight SPICE dataset behind the dashboard, or set up its daily incremental refresh'
  static override description = [
    'Starts an ingestion of the dataset (or attaches to one already queued or running) and waits until it completes, fails or is cancelled, reporting the rows ingested, dropped and in the dataset. Run it after the crawler has added the day.',
    `With --configure-schedule it instead sets the dataset's incremental refresh (a look-back window of --lookback-days, at least ${MIN_LOOKBACK_DAYS}, on window.start) and one daily incremental refresh schedule, and warns when that starts less than two hours after the crawler's daily run. Running it again changes nothing and says unchanged.`,
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %> --region us-east-1',
    '<%= config.bin %> <%= command.id %> --type incremental --no-wait',
    '<%= config.bin %> <%= command.id %> --configure-schedule --schedule-time 03:00 --timezone UTC',
  ]

  static override flags = {
    'dataset-id': Flags.string({
      env: 'QUICKSIGHT_DATASET_ID',
      description: "QuickSight dataset id (the original solution's eks_insights)",
      default: DEFAULT_DATASET_ID,
    }),
    'account-id': Flags.string({
      ...input({flag: 'account-id', env: 'QUICKSIGHT_ACCOUNT_ID'}, parseAccountId),
      description: "the QuickSight account (default: the caller's, from STS GetCallerIdentity)",
    }),
    region: Flags.string({
      ...input({flag: 'region', env: 'QUICKSIGHT_REGION'}, parseRegion),
      description: 'the QuickSight region [default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1]',
    }),
    type: Flags.custom<RefreshType>({
      ...input({flag: 'type', env: 'REFRESH_TYPE'}, (v, n) => parseChoice(v, REFRESH_TYPES, n)),
    })({
      description:
        'full re-reads the whole view; incremental re-reads only the look-back window (needs --configure-schedule once)',
      default: 'full',
    }),
    wait: Flags.boolean({
      env: 'REFRESH_WAIT',
      allowNo: true,
      default: true,
      description: 'wait for the ingestion to end (--no-wait: start or find it and return)',
    }),
    timeout: Flags.custom<number>({...input({flag: 'timeout', env: 'REFRESH_TIMEOUT'}, parseSeconds)})({
      description: 'how long to wait for the ingestion, in seconds (it carries on in QuickSight after that)',
      default: 3_600_000,
      defaultHelp: async () => '3600',
    }),
    'configure-schedule': Flags.boolean({
      env: 'CONFIGURE_SCHEDULE',
      description: 'set the incremental refresh window and the daily refresh schedule instead of refreshing now',
    }),
    'lookback-days': Flags.custom<number>({...input({flag: 'lookback-days', env: 'LOOKBACK_DAYS'}, parseLookbackDays)})(
      {
        description: `incremental refresh look-back window on window.start, in days (at least ${MIN_LOOKBACK_DAYS})`,
        default: MIN_LOOKBACK_DAYS,
      },
    ),
    'schedule-time': Flags.custom<TimeOfDay>({...input({flag: 'schedule-time', env: 'SCHEDULE_TIME'}, parseTimeOfDay)})(
      {
        description: 'time of day of the daily refresh, HH:MM in --timezone',
        default: {hour: 3, minute: 0},
        defaultHelp: async () => '03:00',
      },
    ),
    timezone: Flags.string({
      ...input({flag: 'timezone', env: 'SCHEDULE_TIMEZONE'}, parseTimezone),
      description: 'time zone of --schedule-time (IANA name)',
      default: 'UTC',
    }),
    crawler: Flags.string({
      env: 'GLUE_CRAWLER',
      description: 'Glue crawler whose daily schedule the refresh must follow by two hours',
      default: 'kubecost_crawler',
    }),
    // Lets tests poll a fake quickly; QuickSight itself is polled every 5 s, then up to every 30 s.
    'poll-ms': Flags.custom<number>({hidden: true, ...input({flag: 'poll-ms'}, parsePositiveInteger)})(),
    ...logFlags,
  }

  async run(): Promise<RefreshResult | ScheduleResult> {
    const {flags} = await this.parse(RefreshDataset)
    const logger = this.logger(flags['log-format'])
    const session = await this.awsSession({
      flag: flags.region,
      env: process.env,
      fallback: {region: 'us-east-1', described: 'us-east-1'},
    })
    const {describeDataSet} = await import('../lib/aws/quicksight.js')
    const api: QuickSightApi = {
      client: await session.client('quicksight'),
      send: session.send.bind(session),
      accountId: flags['account-id'] ?? (await session.accountId()),
      region: session.region.region,
    }
    const dataSet = await describeDataSet(api, flags['dataset-id'])
    if (flags['configure-schedule']) return this.configure(api, session, logger, flags)

    const {createIngestion, describeIngestion, findActiveIngestion} = await import('../lib/aws/quicksight.js')
    let active = await findActiveIngestion(api, dataSet.id)
    let started: Ingestion
    try {
      started = active ?? (await createIngestion(api, dataSet.id, randomUUID(), flags.type))
    } catch (error) {
      // Another run or the console started one between the listing and the start: follow that one.
      if (!(error instanceof CidError && error.code === 'AWS_ALREADY_EXISTS')) throw error
      active = await findActiveIngestion(api, dataSet.id)
      if (!active) throw error
      started = active
    }

    const verb = active
      ? `Attached to ingestion ${started.id}, already ${started.status}`
      : `Started ${flags.type} ingestion ${started.id}`
    logger.info(`${verb} of dataset ${dataSet.name} (${dataSet.id})`)
    const result = {
      dataSetId: dataSet.id,
      accountId: api.accountId,
      region: api.region,
      attached: Boolean(active),
      waited: flags.wait,
    }
    if (!flags.wait) {
      if (!this.jsonEnabled()) this.log(`${verb}; not waiting (--no-wait).`)
      return {...result, ingestion: started}
    }

    const mode = progressMode({json: this.jsonEnabled(), isTTY: process.stderr.isTTY, logFormat: flags['log-format']})
    const subject = `ingestion ${started.id}`
    const initialMs = flags['poll-ms'] ?? 5000
    let ended: Ingestion
    try {
      ended = await withProgress(`Refreshing dataset ${dataSet.name}`, mode, logger, report =>
        waitFor(async () => ingestionPoll(await describeIngestion(api, dataSet.id, started.id)), {
          subject,
          timeoutMs: flags.timeout,
          poll: {initialMs, maxMs: Math.max(initialMs, flags['poll-ms'] ?? 30_000)},
          signal: this.abortSignal(),
          onProgress: report,
        }),
      )
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error
      throw new AwsError(
        'QUICKSIGHT_INGESTION_TIMEOUT',
        `Ingestion ${started.id} of dataset ${dataSet.id} was still ${error.lastState} after ${Math.round(flags.timeout / 1000)} s (--timeout)`,
        {
          cause: error,
          suggestions: [
            'It carries on in QuickSight: run refresh-dataset again to attach to it, or raise --timeout (REFRESH_TIMEOUT).',
          ],
        },
      )
    }

    const done = {...result, ingestion: ended}
    if (ended.status !== 'COMPLETED') {
      const why = ended.error ? `${ended.error.type}: ${ended.error.message}` : 'QuickSight gave no reason'
      return this.failedWith(
        done,
        new AwsError(
          `QUICKSIGHT_INGESTION_${ended.status}`,
          `Ingestion ${ended.id} of dataset ${dataSet.id} ${ended.status} (${why})`,
          {
            suggestions: [
              "Open the dataset's refresh history in QuickSight for details; check the Athena view kubecost_view answers a query and that QuickSight may read the bucket.",
            ],
          },
        ),
      )
    }

    if (!this.jsonEnabled()) this.log(`Ingestion ${ended.id} COMPLETED: ${rowReport(ended)}`)
    return done
  }

  private async configure(
    api: QuickSightApi,
    session: AwsSession,
    logger: Logger,
    flags: {
      'dataset-id': string
      'lookback-days': number
      'schedule-time': TimeOfDay
      timezone: string
      crawler: string
    },
  ): Promise<ScheduleResult> {
    const {ensureDailySchedule, ensureLookback} = await import('../lib/aws/quicksight.js')
    const id = flags['dataset-id']
    const days = flags['lookback-days']
    const lookback = await ensureLookback(api, id, days)
    const wanted = {time: flags['schedule-time'], timezone: flags.timezone}
    const schedule = await ensureDailySchedule(api, id, wanted)
    const crawler = await this.crawlerGap(session, flags.crawler, wanted)
    const warnings: string[] = []
    if (crawler.minutesBefore !== undefined && crawler.minutesBefore < CRAWLER_GAP_MINUTES) {
      warnings.push(
        `The refresh at ${formatTimeOfDay(wanted.time)} ${wanted.timezone} starts ${crawler.minutesBefore} min after crawler ${flags.crawler} (${crawler.schedule ?? ''}, UTC): less than two hours, so it may read the table before the newest day is in. Set --schedule-time at least two hours after the crawler.`,
      )
    }

    if (crawler.note) warnings.push(crawler.note)
    for (const w of warnings) logger.warn(w)
    const result: ScheduleResult = {
      dataSetId: id,
      accountId: api.accountId,
      region: api.region,
      lookback: {column: 'window.start', days, change: lookback},
      schedule: {
        id: schedule.id,
        time: formatTimeOfDay(wanted.time),
        timezone: wanted.timezone,
        refreshType: 'INCREMENTAL_REFRESH',
        change: schedule.change,
      },
      crawler,
      warnings,
    }
    if (!this.jsonEnabled()) {
      this.log(`Incremental refresh window: ${days} days on window.start (${lookback})`)
      this.log(
        `Daily incremental refresh ${schedule.id} at ${result.schedule.time} ${wanted.timezone} (${schedule.change})`,
      )
    }

    return result
  }

  /** How long before the refresh the crawler starts each day; a schedule that cannot be read is a note, never a failure. */
  private async crawlerGap(
    session: AwsSession,
    name: string,
    wanted: {time: TimeOfDay; timezone: string},
  ): Promise<ScheduleResult['crawler']> {
    const {getCrawlerSchedule} = await import('../lib/aws/glue-schedule.js')
    const skipped = (why: string) =>
      `Could not check the refresh against crawler ${name}: ${why}; the two-hour check was skipped.`
    let expression: string | undefined
    try {
      expression = await getCrawlerSchedule(
        {client: await session.client('glueForSchedule'), send: session.send.bind(session)},
        name,
      )
    } catch (error) {
      if (!(error instanceof CidError)) throw error
      return {name, note: skipped(error.summary)}
    }

    if (!expression) return {name, note: skipped('it has no schedule (it runs on demand)')}
    const parsed = parseCrawlerCron(expression)
    if (parsed.kind === 'other')
      return {name, schedule: expression, note: skipped(`its schedule ${expression} is not daily: ${parsed.reason}`)}
    return {
      name,
      schedule: expression,
      minutesBefore: minutesAfterCrawler(wanted.time, wanted.timezone, parsed.at, new Date()),
    }
  }
}
