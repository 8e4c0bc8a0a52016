/**
 * refresh-dataset's steps against AWS: the QuickSight API of a session, the daily schedule set-up
 * with its crawler check, and an ingestion started (or joined) and waited for. The decisions are
 * lib/quicksight's; this module gives them the real calls.
 */
import {randomUUID} from 'node:crypto'

import {named} from '../iam/name-hints.js'
import {type ConfigureOptions, type ScheduleRun, configureRefresh} from '../quicksight/configure.js'
import {
  type FollowedIngestion,
  type Ingestion,
  type RefreshType,
  followIngestion,
  startOrAttach,
} from '../quicksight/refresh.js'
import type {WaitOptions} from '../wait.js'
import {getCrawlerSchedule} from './glue-schedule.js'
import {
  type QuickSightApi,
  createIngestion,
  describeIngestion,
  ensureDailySchedule,
  ensureLookback,
  findActiveIngestion,
} from './quicksight.js'
import type {AwsSession} from './session.js'

export {describeDataSet} from './quicksight.js'

/**
 * The session's QuickSight API for one dataset's calls, in `accountId` (the session's own account by
 * default). An access denied names the dataset as possibly wrong when it is not the one the printed
 * least-privilege policy allows.
 */
export async function quickSightApi(
  session: AwsSession,
  dataSetId: string,
  accountId?: string,
): Promise<QuickSightApi> {
  const dataset = {kind: 'dataset', name: dataSetId, setting: 'datasetId'} as const
  return {
    client: await session.client('quicksight'),
    send: async (call, context) => named(dataset, session.send(call, context)),
    accountId: accountId ?? (await session.accountId()),
    region: session.region.region,
  }
}

/** The dataset's incremental refresh and daily schedule, checked against the crawler's (see configureRefresh). */
export async function configureDatasetRefresh(
  session: AwsSession,
  api: QuickSightApi,
  options: Omit<ConfigureOptions, 'accountId' | 'region'>,
): Promise<ScheduleRun> {
  const glue = {client: await session.client('glueForSchedule'), send: session.send.bind(session)}
  const id = options.dataSetId
  return configureRefresh(
    {
      ensureLookback: async days => ensureLookback(api, id, days),
      ensureDailySchedule: async wanted => ensureDailySchedule(api, id, wanted),
      crawlerSchedule: async name => named({kind: 'crawler', name, setting: 'crawler'}, getCrawlerSchedule(glue, name)),
    },
    {...options, accountId: api.accountId, region: api.region},
  )
}

/** An ingestion of the dataset: one already queued or running, else a new one of `type`. */
export async function startRefresh(
  api: QuickSightApi,
  dataSetId: string,
  type: RefreshType,
): Promise<{ingestion: Ingestion; attached: boolean}> {
  return startOrAttach({
    find: async () => findActiveIngestion(api, dataSetId),
    start: async () => createIngestion(api, dataSetId, randomUUID(), type),
  })
}

/** The ingestion once it has ended (completed, failed or cancelled), or as last seen when the wait failed first. */
export async function awaitIngestion(
  api: QuickSightApi,
  dataSetId: string,
  started: Ingestion,
  wait: Omit<WaitOptions, 'subject'>,
): Promise<FollowedIngestion> {
  return followIngestion(async () => describeIngestion(api, dataSetId, started.id), started, dataSetId, wait)
}
