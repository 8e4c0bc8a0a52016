import {
  CreateIngestionCommand,
  CreateRefreshScheduleCommand,
  DescribeDataSetCommand,
  DescribeDataSetRefreshPropertiesCommand,
  DescribeIngestionCommand,
  type Ingestion as SdkIngestion,
  ListDataSetsCommand,
  ListIngestionsCommand,
  ListRefreshSchedulesCommand,
  PutDataSetRefreshPropertiesCommand,
  type QuickSightClient,
  type RefreshSchedule,
  UpdateRefreshScheduleCommand,
} from '@aws-sdk/client-quicksight'

import {AwsError, CidError} from '../errors.js'
import {
  type Change,
  type DailySchedule,
  INGESTION_TYPE,
  type Ingestion,
  type RefreshType,
  activeIngestion,
  dashboardCandidates,
  lookbackChange,
  planSchedule,
} from '../quicksight/refresh.js'
import {LOOKBACK_COLUMN, type TimeOfDay, formatTimeOfDay} from '../quicksight/schedule.js'
import type {AwsCallContext} from './errors.js'
import {flag, setting} from '../settings.js'

/** What the QuickSight operations need: the client, the session's classifying send, and the account they act in. */
export interface QuickSightApi {
  client: QuickSightClient
  send: <Output>(call: () => Promise<Output>, context: Omit<AwsCallContext, 'identity'>) => Promise<Output>
  accountId: string
  region: string
}

const datasetArn = (api: QuickSightApi, id: string) => `arn:aws:quicksight:${api.region}:${api.accountId}:dataset/${id}`
const hasCode = (error: unknown, code: string) => error instanceof CidError && error.code === code

export interface DataSet {
  id: string
  name: string
  importMode?: string
}

/**
 * The dataset, or — when it is not there — an error listing the account's datasets that look like
 * the dashboard's; if even the account's dataset list is not there, QuickSight is not set up in
 * that region.
 */
export async function describeDataSet(api: QuickSightApi, id: string): Promise<DataSet> {
  try {
    const {DataSet: d} = await api.send(
      () => api.client.send(new DescribeDataSetCommand({AwsAccountId: api.accountId, DataSetId: id})),
      {
        action: 'quicksight:DescribeDataSet',
        resource: datasetArn(api, id),
      },
    )
    return {id, name: d?.Name ?? id, importMode: d?.ImportMode}
  } catch (error) {
    if (!hasCode(error, 'AWS_NOT_FOUND')) throw error
    const candidates = dashboardCandidates(await listDataSets(api))
    throw new AwsError(
      'QUICKSIGHT_DATASET_NOT_FOUND',
      `QuickSight dataset ${id} was not found in account ${api.accountId}, region ${api.region}`,
      {
        cause: error,
        suggestions:
          candidates.length > 0
            ? [
                `Datasets there that look like the dashboard's: ${candidates.map(c => `${c.name} (${c.id})`).join(', ')}. Pass one with ${setting('datasetId')}.`,
              ]
            : [
                `No dataset there looks like the dashboard's (eks_insights, cca_kubecost_view, or a name with kubecost): check ${flag('region')} (the QuickSight region) and ${flag('accountId')}, or deploy the dashboard first.`,
              ],
      },
    )
  }
}

export async function listDataSets(api: QuickSightApi): Promise<DataSet[]> {
  const found: DataSet[] = []
  let token: string | undefined
  do {
    const page = await listDataSetsPage(api, token)
    for (const d of page.DataSetSummaries ?? [])
      if (d.DataSetId) found.push({id: d.DataSetId, name: d.Name ?? '', importMode: d.ImportMode})
    token = page.NextToken
  } while (token)
  return found
}

async function listDataSetsPage(api: QuickSightApi, token: string | undefined) {
  try {
    return await api.send(
      () => api.client.send(new ListDataSetsCommand({AwsAccountId: api.accountId, NextToken: token})),
      {
        action: 'quicksight:ListDataSets',
        resource: `arn:aws:quicksight:${api.region}:${api.accountId}:dataset/*`,
      },
    )
  } catch (error) {
    // The account itself is what is missing here: QuickSight holds nothing for it in this region.
    if (!hasCode(error, 'AWS_NOT_FOUND')) throw error
    throw notSubscribed(api, error)
  }
}

function notSubscribed(api: QuickSightApi, cause: unknown): AwsError {
  return new AwsError(
    'QUICKSIGHT_NOT_SUBSCRIBED',
    `QuickSight is not set up for account ${api.accountId} in region ${api.region}`,
    {
      cause,
      suggestions: [
        `Sign up for QuickSight (Enterprise edition) in that account, or pass the region QuickSight runs in with ${setting('region')}.`,
      ],
    },
  )
}

const toIngestion = (i: SdkIngestion | undefined, id: string): Ingestion & {createdAt?: Date} => ({
  id: i?.IngestionId ?? id,
  status: i?.IngestionStatus ?? 'UNKNOWN',
  rowsIngested: i?.RowInfo?.RowsIngested,
  rowsDropped: i?.RowInfo?.RowsDropped,
  totalRows: i?.RowInfo?.TotalRowsInDataset,
  seconds: i?.IngestionTimeInSeconds,
  createdAt: i?.CreatedTime,
  ...(i?.ErrorInfo ? {error: {type: i.ErrorInfo.Type ?? 'UNKNOWN', message: i.ErrorInfo.Message ?? ''}} : {}),
})

/** The ingestion of the dataset that is queued or running now, if there is one. */
export async function findActiveIngestion(api: QuickSightApi, dataSetId: string): Promise<Ingestion | undefined> {
  // The one in flight is among the latest: the first page is enough.
  const page = await api.send(
    () =>
      api.client.send(new ListIngestionsCommand({AwsAccountId: api.accountId, DataSetId: dataSetId, MaxResults: 100})),
    {
      action: 'quicksight:ListIngestions',
      resource: datasetArn(api, dataSetId),
    },
  )
  return activeIngestion((page.Ingestions ?? []).map(i => toIngestion(i, '')))
}

export async function describeIngestion(
  api: QuickSightApi,
  dataSetId: string,
  ingestionId: string,
): Promise<Ingestion> {
  const {Ingestion: i} = await api.send(
    () =>
      api.client.send(
        new DescribeIngestionCommand({AwsAccountId: api.accountId, DataSetId: dataSetId, IngestionId: ingestionId}),
      ),
    {
      action: 'quicksight:DescribeIngestion',
      resource: `${datasetArn(api, dataSetId)}/ingestion/${ingestionId}`,
    },
  )
  const ingestion: Ingestion & {createdAt?: Date} = toIngestion(i, ingestionId)
  delete ingestion.createdAt
  return ingestion
}

export async function createIngestion(
  api: QuickSightApi,
  dataSetId: string,
  ingestionId: string,
  type: RefreshType,
): Promise<Ingestion> {
  try {
    const out = await api.send(
      () =>
        api.client.send(
          new CreateIngestionCommand({
            AwsAccountId: api.accountId,
            DataSetId: dataSetId,
            IngestionId: ingestionId,
            IngestionType: INGESTION_TYPE[type],
          }),
        ),
      {action: 'quicksight:CreateIngestion', resource: `${datasetArn(api, dataSetId)}/ingestion/${ingestionId}`},
    )
    return {id: out.IngestionId ?? ingestionId, status: out.IngestionStatus ?? 'QUEUED'}
  } catch (error) {
    if (!hasCode(error, 'AWS_LIMIT_EXCEEDED')) throw error
    throw new AwsError(
      'QUICKSIGHT_INGESTION_LIMIT',
      `QuickSight refused a new ingestion of dataset ${dataSetId}: the dataset's ingestion limit (refreshes per 24 hours) is reached`,
      {
        cause: error,
        suggestions: [
          `Wait until the oldest refresh of the last 24 hours ages out, and refresh less often: the daily schedule (${flag('configureSchedule')}) needs one refresh a day.`,
        ],
      },
    )
  }
}

/** Sets the look-back window on `window.start`, unless it is already exactly that. */
export async function ensureLookback(api: QuickSightApi, dataSetId: string, days: number): Promise<Change> {
  let current: {column?: string; size?: number; unit?: string} | undefined
  try {
    const out = await api.send(
      () =>
        api.client.send(
          new DescribeDataSetRefreshPropertiesCommand({AwsAccountId: api.accountId, DataSetId: dataSetId}),
        ),
      {
        action: 'quicksight:DescribeDataSetRefreshProperties',
        resource: datasetArn(api, dataSetId),
      },
    )
    const window = out.DataSetRefreshProperties?.RefreshConfiguration?.IncrementalRefresh?.LookbackWindow
    current = window ? {column: window.ColumnName, size: window.Size, unit: window.SizeUnit} : undefined
  } catch (error) {
    // A dataset that never had refresh properties answers not found.
    if (!hasCode(error, 'AWS_NOT_FOUND')) throw error
  }

  const change = lookbackChange(current, days)
  if (change === 'unchanged') return change
  await api.send(
    () =>
      api.client.send(
        new PutDataSetRefreshPropertiesCommand({
          AwsAccountId: api.accountId,
          DataSetId: dataSetId,
          DataSetRefreshProperties: {
            RefreshConfiguration: {
              IncrementalRefresh: {LookbackWindow: {ColumnName: LOOKBACK_COLUMN, Size: days, SizeUnit: 'DAY'}},
            },
          },
        }),
      ),
    {action: 'quicksight:PutDataSetRefreshProperties', resource: datasetArn(api, dataSetId)},
  )
  return change
}

const toDaily = (s: RefreshSchedule): DailySchedule => ({
  id: s.ScheduleId ?? '',
  interval: s.ScheduleFrequency?.Interval ?? '',
  time: s.ScheduleFrequency?.TimeOfTheDay ?? '',
  timezone: s.ScheduleFrequency?.Timezone ?? '',
  refreshType: s.RefreshType ?? '',
})

export interface ScheduleOutcome {
  id: string
  change: Change
  previous?: DailySchedule
}

/** One daily incremental refresh at `time` in `timezone`: created, left as it is, or updated in place. */
export async function ensureDailySchedule(
  api: QuickSightApi,
  dataSetId: string,
  wanted: {time: TimeOfDay; timezone: string},
): Promise<ScheduleOutcome> {
  const resource = datasetArn(api, dataSetId)
  const {RefreshSchedules: schedules = []} = await api.send(
    () => api.client.send(new ListRefreshSchedulesCommand({AwsAccountId: api.accountId, DataSetId: dataSetId})),
    {
      action: 'quicksight:ListRefreshSchedules',
      resource,
    },
  )
  const plan = planSchedule(schedules.map(toDaily), wanted)
  if (plan.action === 'unchanged') return {id: plan.id, change: 'unchanged'}
  const schedule = {
    ScheduleId: plan.id,
    RefreshType: 'INCREMENTAL_REFRESH' as const,
    ScheduleFrequency: {
      Interval: 'DAILY' as const,
      TimeOfTheDay: formatTimeOfDay(wanted.time),
      Timezone: wanted.timezone,
    },
  }
  if (plan.action === 'create') {
    await api.send(
      () =>
        api.client.send(
          new CreateRefreshScheduleCommand({AwsAccountId: api.accountId, DataSetId: dataSetId, Schedule: schedule}),
        ),
      {
        action: 'quicksight:CreateRefreshSchedule',
        resource,
      },
    )
    return {id: plan.id, change: 'created'}
  }

  await api.send(
    () =>
      api.client.send(
        new UpdateRefreshScheduleCommand({AwsAccountId: api.accountId, DataSetId: dataSetId, Schedule: schedule}),
      ),
    {
      action: 'quicksight:UpdateRefreshSchedule',
      resource,
    },
  )
  return {id: plan.id, change: 'updated', previous: plan.from}
}
