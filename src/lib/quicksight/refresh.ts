import {AwsError, CidError} from '../errors.js'
import {flag, setting} from '../settings.js'
import {type PollResult, type WaitOptions, waitOrFail} from '../wait.js'
import {LOOKBACK_COLUMN, type TimeOfDay, formatTimeOfDay} from './schedule.js'

/** The original solution's dataset (`eks_insights`). */
export const DEFAULT_DATASET_ID = 'e88edf48-f2cd-4c23-b6a4-e2b3034e2c41'
/** The id of the schedule this tool creates, so a later run finds its own. */
export const SCHEDULE_ID = 'kubecost-cid-daily'

export const REFRESH_TYPES = ['full', 'incremental'] as const
export type RefreshType = (typeof REFRESH_TYPES)[number]
export const INGESTION_TYPE: Record<RefreshType, 'FULL_REFRESH' | 'INCREMENTAL_REFRESH'> = {
  full: 'FULL_REFRESH',
  incremental: 'INCREMENTAL_REFRESH',
}

/** One ingestion as the command reports it. */
export interface Ingestion {
  id: string
  status: string
  rowsIngested?: number
  rowsDropped?: number
  totalRows?: number
  seconds?: number
  error?: {type: string; message: string}
}

const ACTIVE = new Set(['QUEUED', 'INITIALIZED', 'RUNNING'])
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED'])

/** Queued or running: a new ingestion would only queue behind it (or be refused), so the command attaches to it. */
export const isActive = (ingestion: Ingestion) => ACTIVE.has(ingestion.status)

export function ingestionPoll(ingestion: Ingestion): PollResult<Ingestion> {
  return FINAL.has(ingestion.status) ? {done: true, value: ingestion} : {done: false, state: ingestion.status}
}

/** The newest queued or running ingestion, if any. */
export function activeIngestion(ingestions: readonly (Ingestion & {createdAt?: Date})[]): Ingestion | undefined {
  return ingestions.filter(isActive).sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0]
}

export function rowReport(ingestion: Ingestion): string {
  const n = (v: number | undefined) => (v === undefined ? 'unknown' : String(v))
  return `${n(ingestion.rowsIngested)} rows ingested, ${n(ingestion.rowsDropped)} dropped, ${n(ingestion.totalRows)} in the dataset, ${n(ingestion.seconds)} s`
}

/** Datasets whose names look like the dashboard's, for the hint when the given id is not found. */
export function dashboardCandidates<T extends {id: string; name: string}>(datasets: readonly T[]): T[] {
  return datasets.filter(d => /^(eks_insights|cca_kubecost_view)$/i.test(d.name) || /kubecost/i.test(d.name))
}

export interface Lookback {
  column: string
  days: number
}

export type Change = 'created' | 'updated' | 'unchanged'

/** Only a look-back window in days on `window.start` of exactly the wanted size is unchanged. */
export function lookbackChange(
  current: {column?: string; size?: number; unit?: string} | undefined,
  days: number,
): Change {
  if (!current) return 'created'
  return current.column === LOOKBACK_COLUMN && current.size === days && current.unit === 'DAY' ? 'unchanged' : 'updated'
}

export interface DailySchedule {
  id: string
  time: string
  timezone: string
  refreshType: string
  interval: string
}

export type SchedulePlan =
  | {action: 'create'; id: string}
  | {action: 'unchanged'; id: string}
  | {action: 'update'; id: string; from: DailySchedule}

/**
 * One daily schedule per dataset: ours if it exists, else a daily one made elsewhere (the console's)
 * is taken over rather than a second one added beside it, else a new one.
 */
export function planSchedule(
  existing: readonly DailySchedule[],
  wanted: {time: TimeOfDay; timezone: string},
): SchedulePlan {
  const current = existing.find(s => s.id === SCHEDULE_ID) ?? existing.find(s => s.interval === 'DAILY')
  if (!current) return {action: 'create', id: SCHEDULE_ID}
  const same =
    current.interval === 'DAILY' &&
    current.time === formatTimeOfDay(wanted.time) &&
    current.timezone === wanted.timezone &&
    current.refreshType === 'INCREMENTAL_REFRESH'
  return same ? {action: 'unchanged', id: current.id} : {action: 'update', id: current.id, from: current}
}

/** The wait for an ingestion ran out; the ingestion itself carries on in QuickSight. */
export function ingestionTimeout(
  ingestionId: string,
  dataSetId: string,
  lastState: string,
  timeoutMs: number,
  cause: unknown,
): AwsError {
  return new AwsError(
    'QUICKSIGHT_INGESTION_TIMEOUT',
    `Ingestion ${ingestionId} of dataset ${dataSetId} was still ${lastState} after ${Math.round(timeoutMs / 1000)} s (${flag('timeout')})`,
    {
      cause,
      suggestions: [
        `It carries on in QuickSight: run refresh-dataset again to attach to it, or raise ${setting('timeout')}.`,
      ],
    },
  )
}

/** The dataset or its ingestion disappeared while the ingestion was awaited: said at once, not at the timeout. */
export function ingestionGone(ingestionId: string, dataSetId: string, lastState: string, cause: unknown): AwsError {
  return new AwsError(
    'QUICKSIGHT_INGESTION_GONE',
    `Ingestion ${ingestionId} of dataset ${dataSetId} is gone (last seen ${lastState}): the dataset was deleted, or replaced, while this run waited`,
    {
      cause,
      suggestions: [
        `Check that dataset ${dataSetId} still exists in QuickSight (${setting('datasetId')} names it; a re-created dataset has a new id unless it was given this one), then run refresh-dataset again.`,
      ],
    },
  )
}

/** The ingestion as last seen, and the failure that ended the wait before the ingestion did. */
export interface FollowedIngestion {
  ingestion: Ingestion
  failure?: CidError
}

/**
 * Polls an ingestion this run started or joined until it ends. The ingestion goes on whatever this
 * run does, so a failure of the wait (a timeout, the dataset deleted, a refused poll) comes back
 * with the ingestion as last seen rather than on its own.
 */
export async function followIngestion(
  describe: () => Promise<Ingestion>,
  started: Ingestion,
  dataSetId: string,
  wait: Omit<WaitOptions, 'subject'>,
): Promise<FollowedIngestion> {
  let last = started
  try {
    const ended = await waitOrFail(
      async () => {
        try {
          last = await describe()
        } catch (error) {
          if (error instanceof CidError && error.code === 'AWS_NOT_FOUND')
            throw ingestionGone(started.id, dataSetId, last.status, error)
          throw error
        }

        return ingestionPoll(last)
      },
      {...wait, subject: `ingestion ${started.id}`},
      error => ingestionTimeout(started.id, dataSetId, error.lastState, wait.timeoutMs, error),
    )
    return {ingestion: ended}
  } catch (error) {
    if (!(error instanceof CidError)) throw error
    return {ingestion: last, failure: error}
  }
}

/** An ingestion that ended FAILED or CANCELLED, with QuickSight's reason. */
export function ingestionFailure(ended: Ingestion, dataSetId: string): AwsError {
  const why = ended.error ? `${ended.error.type}: ${ended.error.message}` : 'QuickSight gave no reason'
  return new AwsError(
    `QUICKSIGHT_INGESTION_${ended.status}`,
    `Ingestion ${ended.id} of dataset ${dataSetId} ${ended.status} (${why})`,
    {
      suggestions: [
        "Open the dataset's refresh history in QuickSight for details; check the Athena view kubecost_view answers a query and that QuickSight may read the bucket.",
      ],
    },
  )
}

/**
 * Starts an ingestion, or joins the one already queued or running (a refresh is one at a time per
 * dataset). When another run or the console starts one between the look and the start, the start
 * fails with AWS_ALREADY_EXISTS and that one is followed instead.
 */
export async function startOrAttach(ops: {
  find: () => Promise<Ingestion | undefined>
  start: () => Promise<Ingestion>
}): Promise<{ingestion: Ingestion; attached: boolean}> {
  const active = await ops.find()
  if (active) return {ingestion: active, attached: true}
  try {
    return {ingestion: await ops.start(), attached: false}
  } catch (error) {
    if (!(error instanceof CidError && error.code === 'AWS_ALREADY_EXISTS')) throw error
    const raced = await ops.find()
    if (!raced) throw error
    return {ingestion: raced, attached: true}
  }
}
