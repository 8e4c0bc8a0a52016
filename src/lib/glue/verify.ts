/**
 * Proving that Athena can read the view deploy-glue wrote: a `SELECT * ... LIMIT 0` in the
 * workgroup the dashboard uses plans the view against the table (every column, its type, the
 * partition keys) and reads no data. A Glue VIRTUAL_VIEW whose definition Athena cannot parse fails
 * here, not in the dashboard; so does a workgroup without a query result location.
 */
import {AwsError} from '../errors.js'
import {named} from '../iam/name-hints.js'
import {type SettingId, flag, setting} from '../settings.js'
import {type Clock, type PollResult, type ProgressEvent, waitOrFail} from '../wait.js'
import type {WorkgroupSettings} from './workgroup.js'

export interface QueryStatus {
  /** QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED. */
  state: string
  /** Athena's StateChangeReason (or its error message) for a query that did not succeed. */
  reason?: string
}

export interface QueryApi {
  getWorkgroup(name: string): Promise<WorkgroupSettings | undefined>
  startQuery(sql: string, workgroup: string): Promise<string>
  queryStatus(id: string, workgroup: string): Promise<QueryStatus>
}

export interface VerifyOptions {
  database: string
  view: string
  workgroup: string
  /** The setting that names the workgroup in this run (--create-workgroup or --athena-workgroup). */
  workgroupSetting?: SettingId
  timeoutMs: number
  poll: {initialMs: number; maxMs: number}
  clock?: Clock
  signal?: AbortSignal
  onProgress?: (event: ProgressEvent) => void
}

export interface Verification {
  sql: string
  workgroup: string
  queryId: string
  state: 'SUCCEEDED'
}

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED'])

export const verifySql = (database: string, view: string) => `SELECT * FROM "${database}"."${view}" LIMIT 0`

export async function verifyView(queries: QueryApi, options: VerifyOptions): Promise<Verification> {
  const {database, view, workgroup} = options
  const resource = {kind: 'workgroup', name: workgroup, setting: options.workgroupSetting} as const
  const api: QueryApi = {
    getWorkgroup: async name => named(resource, queries.getWorkgroup(name)),
    startQuery: async (sql, w) => named(resource, queries.startQuery(sql, w)),
    queryStatus: async (id, w) => named(resource, queries.queryStatus(id, w)),
  }
  const target = `${database}.${view}`
  const settings = await api.getWorkgroup(workgroup)
  if (!settings?.outputLocation) {
    throw new AwsError(
      'ATHENA_NO_RESULT_LOCATION',
      `Cannot check that Athena reads view ${target}: workgroup ${workgroup} ${settings ? 'has no query result location, so no query can run in it' : 'does not exist'}`,
      {
        suggestions: [
          settings
            ? `Set the workgroup's query result location (Athena console > Workgroups > ${workgroup} > Edit > Query result configuration), or let deploy-glue make a workgroup with one: ${flag('createWorkgroup')} kubecost ${flag('resultsLocation')} s3://<bucket>/athena-results/.`
            : `Name an existing workgroup with ${setting('athenaWorkgroup')}, or create one with ${flag('createWorkgroup')} and ${flag('resultsLocation')}.`,
        ],
      },
    )
  }

  const sql = verifySql(database, view)
  const queryId = await api.startQuery(sql, workgroup)
  const {timeoutMs, poll, clock, signal, onProgress} = options
  const ended = await waitOrFail(
    async (): Promise<PollResult<QueryStatus>> => {
      const status = await api.queryStatus(queryId, workgroup)
      return FINAL.has(status.state) ? {done: true, value: status} : {done: false, state: status.state}
    },
    {subject: `Athena query ${queryId}`, timeoutMs, poll, clock, signal, onProgress},
    error =>
      new AwsError(
        'ATHENA_QUERY_TIMEOUT',
        `Athena query ${queryId} reading view ${target} was still ${error.lastState} after ${Math.round(timeoutMs / 1000)} s (${flag('verifyTimeout')})`,
        {
          cause: error,
          suggestions: [
            `A LIMIT 0 query plans the view and reads no data: a long queue means the workgroup is busy; check it in the Athena console (query ${queryId}), or raise ${setting('verifyTimeout')}.`,
          ],
        },
      ),
  )

  if (ended.state !== 'SUCCEEDED') {
    throw new AwsError(
      ended.state === 'CANCELLED' ? 'ATHENA_QUERY_CANCELLED' : 'ATHENA_QUERY_FAILED',
      `Athena could not read view ${target}: query ${queryId} ${ended.state}${ended.reason ? `: ${ended.reason}` : ''}`,
      {
        suggestions: [
          `The view is in the Glue catalog but Athena rejects it: run ${sql} in workgroup ${workgroup} for the full error; deploy-glue rewrites the view from the table's columns on its next run.`,
        ],
      },
    )
  }

  return {sql, workgroup, queryId, state: 'SUCCEEDED'}
}

export function verifiedLine(v: Verification, where: {database: string; view: string}): string {
  return `view ${where.database}.${where.view}: read by Athena (query ${v.queryId} SUCCEEDED in workgroup ${v.workgroup})`
}
