import {randomUUID} from 'node:crypto'

import {BaseCommand} from '../base-command.js'
import {datasetFlags, ingestionFlags, logFlags, pollEvery, refreshScheduleFlags} from '../flags.js'
import type {QuickSightApi} from '../lib/aws/quicksight.js'
import {type ScheduleResult, configureRefresh, scheduleLines} from '../lib/quicksight/configure.js'
import {
  type Ingestion,
  ingestionFailure,
  ingestionPoll,
  ingestionTimeout,
  rowReport,
  startOrAttach,
} from '../lib/quicksight/refresh.js'
import {MIN_LOOKBACK_DAYS} from '../lib/quicksight/schedule.js'
import {waitOrFail} from '../lib/wait.js'

export type {ScheduleResult} from '../lib/quicksight/configure.js'

export interface RefreshResult {
  dataSetId: string
  accountId: string
  region: string
  ingestion: Ingestion
  /** Joined an ingestion that was already queued or running instead of starting one. */
  attached: boolean
  waited: boolean
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

  static override flags = {...datasetFlags, ...ingestionFlags, ...refreshScheduleFlags, ...logFlags}

  async run(): Promise<RefreshResult | ScheduleResult> {
    const {flags} = await this.parse(RefreshDataset)
    const logger = this.logger(flags['log-format'])
    const session = await this.awsSession({
      flag: flags.region,
    })
    const qs = await import('../lib/aws/quicksight.js')
    const api: QuickSightApi = {
      client: await session.client('quicksight'),
      send: session.send.bind(session),
      accountId: flags['account-id'] ?? (await session.accountId()),
      region: session.region.region,
    }
    const dataSet = await qs.describeDataSet(api, flags['dataset-id'])
    if (flags['configure-schedule']) {
      const {getCrawlerSchedule} = await import('../lib/aws/glue-schedule.js')
      const glue = {client: await session.client('glueForSchedule'), send: session.send.bind(session)}
      const id = flags['dataset-id']
      const result = await configureRefresh(
        {
          ensureLookback: async days => qs.ensureLookback(api, id, days),
          ensureDailySchedule: async wanted => qs.ensureDailySchedule(api, id, wanted),
          crawlerSchedule: async name => getCrawlerSchedule(glue, name),
        },
        {
          dataSetId: id,
          accountId: api.accountId,
          region: api.region,
          lookbackDays: flags['lookback-days'],
          wanted: {time: flags['schedule-time'], timezone: flags.timezone},
          crawler: flags.crawler,
        },
      )
      for (const w of result.warnings) logger.warn(w)
      if (!this.jsonEnabled()) for (const line of scheduleLines(result)) this.log(line)
      return result
    }

    const {ingestion: started, attached} = await startOrAttach({
      find: async () => qs.findActiveIngestion(api, dataSet.id),
      start: async () => qs.createIngestion(api, dataSet.id, randomUUID(), flags.type),
    })
    const verb = attached
      ? `Attached to ingestion ${started.id}, already ${started.status}`
      : `Started ${flags.type} ingestion ${started.id}`
    logger.info(`${verb} of dataset ${dataSet.name} (${dataSet.id})`)
    const result = {
      dataSetId: dataSet.id,
      accountId: api.accountId,
      region: api.region,
      attached,
      waited: flags.wait,
    }
    if (!flags.wait) {
      if (!this.jsonEnabled()) this.log(`${verb}; not waiting (--no-wait).`)
      return {...result, ingestion: started}
    }

    const ended = await this.withProgress(`Refreshing dataset ${dataSet.name}`, logger, flags['log-format'], report =>
      waitOrFail(
        async () => ingestionPoll(await qs.describeIngestion(api, dataSet.id, started.id)),
        {
          subject: `ingestion ${started.id}`,
          timeoutMs: flags.timeout,
          poll: pollEvery(flags['poll-ms'], {initialMs: 5000, maxMs: 30_000}),
          signal: this.abortSignal(),
          onProgress: report,
        },
        error => ingestionTimeout(started.id, dataSet.id, error.lastState, flags.timeout, error),
      ),
    )
    const done = {...result, ingestion: ended}
    if (ended.status !== 'COMPLETED') return this.failedWith(done, ingestionFailure(ended, dataSet.id))
    if (!this.jsonEnabled()) this.log(`Ingestion ${ended.id} COMPLETED: ${rowReport(ended)}`)
    return done
  }
}
