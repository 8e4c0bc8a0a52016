import {BaseCommand} from '../base-command.js'
import {
  awsTimeouts,
  datasetFlags,
  ingestionFlags,
  logFlags,
  pollEvery,
  refreshScheduleFlags,
  waitDeadline,
} from '../flags.js'
import type {RegionReport} from '../lib/aws/region.js'
import {type ScheduleResult, scheduleLines} from '../lib/quicksight/configure.js'
import {type Ingestion, ingestionFailure, rowReport} from '../lib/quicksight/refresh.js'
import {MIN_LOOKBACK_DAYS} from '../lib/quicksight/schedule.js'

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

  async run(): Promise<(RefreshResult | ScheduleResult) & {awsRegion: RegionReport}> {
    const {flags} = await this.parse(RefreshDataset)
    const logger = this.logger(flags['log-format'])
    const waits = flags.wait && !flags['configure-schedule']
    const signal = this.abortSignal(waits ? waitDeadline(flags.timeout, `dataset ${flags['dataset-id']}`) : undefined)
    const session = await this.awsSession({
      flag: flags.region,
      regionFlag: true,
      logger,
      signal,
      aws: awsTimeouts(flags),
    })
    const awsRegion = session.regionReport
    const refresh = await import('../lib/aws/dataset-refresh.js')
    const api = await refresh.quickSightApi(session, flags['dataset-id'], flags['account-id'])
    const dataSet = await refresh.describeDataSet(api, flags['dataset-id'])
    if (flags['configure-schedule']) {
      const {result, failure} = await refresh.configureDatasetRefresh(session, api, {
        dataSetId: flags['dataset-id'],
        lookbackDays: flags['lookback-days'],
        wanted: {time: flags['schedule-time'], timezone: flags.timezone},
        crawler: flags.crawler,
      })
      for (const w of result.warnings) logger.warn(w)
      if (!this.jsonEnabled()) for (const line of scheduleLines(result)) this.log(line)
      const reported = {...result, awsRegion}
      return failure ? this.failedWith(reported, failure) : reported
    }

    const {ingestion: started, attached} = await refresh.startRefresh(api, dataSet.id, flags.type)
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
      awsRegion,
    }
    if (!flags.wait) {
      if (!this.jsonEnabled()) this.log(`${verb}; not waiting (--no-wait).`)
      return {...result, ingestion: started}
    }

    const {ingestion: ended, failure} = await this.withProgress(
      `Refreshing dataset ${dataSet.name}`,
      logger,
      flags['log-format'],
      report =>
        refresh.awaitIngestion(api, dataSet.id, started, {
          timeoutMs: flags.timeout,
          poll: pollEvery(flags['poll-ms'], {initialMs: 5000, maxMs: 30_000}),
          signal,
          onProgress: report,
        }),
      r => r.failure,
    )
    const done = {...result, ingestion: ended}
    if (failure) {
      // The ingestion goes on in QuickSight: what this run started or joined is said before the error.
      if (!this.jsonEnabled()) this.log(`${verb}; last seen ${ended.status}`)
      return this.failedWith(done, failure)
    }

    if (ended.status !== 'COMPLETED') return this.failedWith(done, ingestionFailure(ended, dataSet.id))
    if (!this.jsonEnabled()) this.log(`Ingestion ${ended.id} COMPLETED: ${rowReport(ended)}`)
    return done
  }
}
