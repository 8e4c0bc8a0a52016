/**
 * A small in-memory QuickSight (REST-JSON), with the two calls refresh-dataset makes elsewhere:
 * STS GetCallerIdentity (query protocol) and Glue GetCrawler (JSON 1.1, `X-Amz-Target:
 * AWSGlue.GetCrawler`), all on one loopback endpoint for AWS_ENDPOINT_URL_QUICKSIGHT/_STS/_GLUE.
 *
 * Behaviour:
 * - Datasets live in `accountId`; another account, or `subscribed: false`, answers every QuickSight
 *   call 404 ResourceNotFoundException (QuickSight holds nothing for it in the region).
 * - An ingestion goes QUEUED → INITIALIZED → RUNNING → COMPLETED (or FAILED with `failWith`), one
 *   state per DescribeIngestion of it (CANCELLED, without error info, with `cancel`); with `stall` it stays RUNNING. Only one ingestion at a time
 *   per dataset: CreateIngestion while one is active is 409 ResourceExistsException. Ids are unique:
 *   a reused id is 409 ResourceExistsException too. With `raceWith`, the first CreateIngestion finds
 *   that an ingestion of that id was started elsewhere just before (a race with another run). After `dailyLimit` creations: 409 LimitExceededException.
 * - A COMPLETED ingestion reports `rows` (ingested, dropped, total) and 42 seconds.
 * - With `deletedAfterPolls`, someone deletes the dataset while an ingestion of it runs: after that
 *   many DescribeIngestion calls, the dataset is gone (404 ResourceNotFoundException from then on).
 * - Refresh properties: DescribeDataSetRefreshProperties is 404 until Put sets them. Refresh
 *   schedules: Create (POST) of an existing id is 409, Update (PUT) of a missing one is 404.
 * - `edition: 'STANDARD'` refuses refresh properties and schedules with 403 UnsupportedUserEditionException.
 * - Actions in `deny` (e.g. `quicksight:CreateIngestion`) are 403 AccessDeniedException; `glue:GetCrawler`
 *   there is Glue's 400 AccessDeniedException.
 * - GetCrawler answers the crawler in `crawlers` with its schedule (undefined: on demand), else 400
 *   EntityNotFoundException. Every request is recorded as its action name.
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'

import type {RecordedCall} from './aws-calls.js'
import {listenOnLoopback, onRequestBody, signingRegion} from './http.js'

export interface FakeIngestion {
  id: string
  status: string
  type: string
  created: number
  error?: {Type: string; Message: string}
}

export interface QuickSightFakeOptions {
  accountId?: string
  subscribed?: boolean
  datasets?: Record<string, string>
  failWith?: {Type: string; Message: string}
  stall?: boolean
  cancel?: boolean
  raceWith?: string
  dailyLimit?: number
  rows?: {ingested: number; dropped: number; total: number}
  edition?: 'ENTERPRISE' | 'STANDARD'
  deny?: string[]
  crawlers?: Record<string, string | undefined>
  deletedAfterPolls?: number
}

interface Schedule {
  ScheduleId: string
  RefreshType: string
  ScheduleFrequency: {Interval: string; TimeOfTheDay?: string; Timezone?: string}
}

const NEXT: Record<string, string> = {QUEUED: 'INITIALIZED', INITIALIZED: 'RUNNING'}
const ACTIVE = new Set(['QUEUED', 'INITIALIZED', 'RUNNING'])

export class QuickSightFake {
  readonly actions: string[] = []
  /** Every request, as received. */
  readonly calls: RecordedCall[] = []
  readonly ingestions = new Map<string, FakeIngestion[]>()
  readonly refreshProperties = new Map<string, unknown>()
  readonly schedules = new Map<string, Map<string, Schedule>>()
  private created = 0
  private polls = 0
  /** Datasets deleted meanwhile (`deletedAfterPolls`); the options, shared by tests, are left alone. */
  private readonly deleted = new Set<string>()

  private constructor(
    private readonly server: Server,
    readonly options: QuickSightFakeOptions,
    readonly endpoint: string,
  ) {}

  static async start(options: QuickSightFakeOptions = {}): Promise<QuickSightFake> {
    const server = createServer()
    const fake = new QuickSightFake(server, options, await listenOnLoopback(server))
    onRequestBody(server, (req, body, res) => fake.handle(req, body, res))
    return fake
  }

  get accountId(): string {
    return this.options.accountId ?? '111122223333'
  }

  /** What a CLI child process needs to reach this fake, with test credentials and region. */
  get env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_QUICKSIGHT: this.endpoint,
      AWS_ENDPOINT_URL_STS: this.endpoint,
      AWS_ENDPOINT_URL_GLUE: this.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'us-east-1',
    }
  }

  /** Puts an ingestion in `status` on the dataset, as if another run or the console had started it. */
  addIngestion(dataSetId: string, id: string, status: string): void {
    this.list(dataSetId).push({id, status, type: 'FULL_REFRESH', created: Date.now() / 1000})
  }

  async close(): Promise<void> {
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private list(dataSetId: string): FakeIngestion[] {
    let list = this.ingestions.get(dataSetId)
    if (!list) this.ingestions.set(dataSetId, (list = []))
    return list
  }

  private scheduleMap(dataSetId: string): Map<string, Schedule> {
    let map = this.schedules.get(dataSetId)
    if (!map) this.schedules.set(dataSetId, (map = new Map<string, Schedule>()))
    return map
  }

  private handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const target = req.headers['x-amz-target']
    this.calls.push({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      target: target as string | undefined,
      body,
      region: signingRegion(req),
    })
    if (typeof target === 'string' && target.startsWith('AWSGlue.')) {
      this.glue(target, body, res)
      return
    }
    if (req.method === 'POST' && (req.url ?? '/') === '/' && body.includes('Action=')) {
      this.sts(body, res)
      return
    }
    this.quicksight(req.method ?? 'GET', new URL(req.url ?? '/', 'http://fake').pathname, body, res)
  }

  private sts(body: string, res: ServerResponse): void {
    const action = new URLSearchParams(body).get('Action') ?? ''
    this.actions.push(`sts:${action}`)
    res.writeHead(200, {'content-type': 'text/xml'})
    res.end(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:iam::${this.accountId}:user/test</Arn><UserId>AIDATEST</UserId><Account>${this.accountId}</Account>
</GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
  }

  private glue(target: string, body: string, res: ServerResponse): void {
    this.actions.push(`glue:${target.slice('AWSGlue.'.length)}`)
    const name = (JSON.parse(body || '{}') as {Name?: string}).Name ?? ''
    const crawlers = this.options.crawlers ?? {}
    if (this.options.deny?.includes('glue:GetCrawler')) {
      res.writeHead(400, {'content-type': 'application/x-amz-json-1.1'})
      res.end(JSON.stringify({__type: 'AccessDeniedException', Message: `not authorized to perform glue:GetCrawler`}))
      return
    }

    if (target !== 'AWSGlue.GetCrawler' || !(name in crawlers)) {
      res.writeHead(400, {'content-type': 'application/x-amz-json-1.1'})
      res.end(
        JSON.stringify({__type: 'EntityNotFoundException', Message: `Crawler entry with name ${name} does not exist`}),
      )
      return
    }

    const expression = crawlers[name]
    res.writeHead(200, {'content-type': 'application/x-amz-json-1.1'})
    res.end(
      JSON.stringify({
        Crawler: {
          Name: name,
          State: 'READY',
          ...(expression ? {Schedule: {ScheduleExpression: expression, State: 'SCHEDULED'}} : {}),
        },
      }),
    )
  }

  private quicksight(method: string, path: string, body: string, res: ServerResponse): void {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
    // accounts/{a}/data-sets[/{d}[/ingestions[/{i}] | /refresh-properties | /refresh-schedules]]
    const [, account, , dataSetId, sub, subId] = parts
    const action = actionOf(method, parts.length, sub)
    this.actions.push(`quicksight:${action}`)
    const send = (status: number, payload: object, errorType?: string) => {
      res.writeHead(status, {'content-type': 'application/json', ...(errorType ? {'x-amzn-errortype': errorType} : {})})
      res.end(JSON.stringify({...payload, RequestId: 'req', Status: status}))
    }

    const fail = (status: number, type: string, message: string) => send(status, {Message: message}, type)
    if (this.options.deny?.includes(`quicksight:${action}`)) {
      fail(403, 'AccessDeniedException', `User is not authorized to perform quicksight:${action}`)
      return
    }
    if (this.options.subscribed === false || account !== this.accountId) {
      fail(404, 'ResourceNotFoundException', `Directory information for account ${account} is not found`)
      return
    }
    const datasets = this.options.datasets ?? {}
    if (action === 'ListDataSets') {
      send(200, {
        DataSetSummaries: Object.entries(datasets).map(([id, name]) => ({
          DataSetId: id,
          Name: name,
          ImportMode: 'SPICE',
          Arn: `arn:aws:quicksight:us-east-1:${account}:dataset/${id}`,
        })),
      })
      return
    }

    if (!dataSetId || !(dataSetId in datasets) || this.deleted.has(dataSetId)) {
      fail(404, 'ResourceNotFoundException', `Dataset ${dataSetId} not found`)
      return
    }
    const editionRefused = () =>
      fail(403, 'UnsupportedUserEditionException', 'This operation is not supported for STANDARD edition')
    switch (action) {
      case 'DescribeDataSet': {
        send(200, {DataSet: {DataSetId: dataSetId, Name: datasets[dataSetId], ImportMode: 'SPICE'}})
        return
      }

      case 'ListIngestions': {
        send(200, {Ingestions: [...this.list(dataSetId)].reverse().map(i => this.describe(i))})
        return
      }

      case 'DescribeIngestion': {
        if (this.options.deletedAfterPolls !== undefined && ++this.polls > this.options.deletedAfterPolls) {
          this.deleted.add(dataSetId)
          fail(404, 'ResourceNotFoundException', `Dataset ${dataSetId} not found`)
          return
        }

        const found = this.list(dataSetId).find(i => i.id === subId)
        if (!found) {
          fail(404, 'ResourceNotFoundException', `Ingestion ${subId} not found`)
          return
        }
        const next = NEXT[found.status]
        if (next) found.status = next
        else if (found.status === 'RUNNING' && !this.options.stall) {
          found.status = this.options.cancel ? 'CANCELLED' : this.options.failWith ? 'FAILED' : 'COMPLETED'
          if (this.options.failWith && !this.options.cancel) found.error = this.options.failWith
        }

        send(200, {Ingestion: this.describe(found)})
        return
      }

      case 'CreateIngestion': {
        const list = this.list(dataSetId)
        if (this.options.raceWith && !list.some(i => i.id === this.options.raceWith))
          this.addIngestion(dataSetId, this.options.raceWith, 'QUEUED')
        if (list.some(i => i.id === subId)) {
          fail(409, 'ResourceExistsException', `Ingestion ${subId} already exists`)
          return
        }
        if (list.some(i => ACTIVE.has(i.status))) {
          fail(409, 'ResourceExistsException', 'An ingestion is already in progress for this dataset')
          return
        }
        if (this.options.dailyLimit !== undefined && this.created >= this.options.dailyLimit) {
          fail(
            409,
            'LimitExceededException',
            'You have reached the maximum number of refreshes for this dataset in 24 hours',
          )
          return
        }

        this.created++
        const type = (JSON.parse(body || '{}') as {IngestionType?: string}).IngestionType ?? 'FULL_REFRESH'
        list.push({id: subId ?? '', status: 'QUEUED', type, created: Date.now() / 1000})
        send(201, {
          IngestionId: subId,
          IngestionStatus: 'QUEUED',
          Arn: `arn:aws:quicksight:us-east-1:${account}:dataset/${dataSetId}/ingestion/${subId}`,
        })
        return
      }

      case 'DescribeDataSetRefreshProperties': {
        if (this.options.edition === 'STANDARD') {
          editionRefused()
          return
        }
        const props = this.refreshProperties.get(dataSetId)
        if (props) send(200, {DataSetRefreshProperties: props})
        else fail(404, 'ResourceNotFoundException', 'No refresh properties for the dataset')
        return
      }

      case 'PutDataSetRefreshProperties': {
        if (this.options.edition === 'STANDARD') {
          editionRefused()
          return
        }
        this.refreshProperties.set(
          dataSetId,
          (JSON.parse(body) as {DataSetRefreshProperties: unknown}).DataSetRefreshProperties,
        )
        send(200, {})
        return
      }

      case 'ListRefreshSchedules': {
        send(200, {RefreshSchedules: [...this.scheduleMap(dataSetId).values()]})
        return
      }

      case 'CreateRefreshSchedule':
      case 'UpdateRefreshSchedule': {
        if (this.options.edition === 'STANDARD') {
          editionRefused()
          return
        }
        const schedule = (JSON.parse(body) as {Schedule: Schedule}).Schedule
        const map = this.scheduleMap(dataSetId)
        if (action === 'CreateRefreshSchedule' && map.has(schedule.ScheduleId)) {
          fail(409, 'ResourceExistsException', 'Schedule exists')
          return
        }
        if (action === 'UpdateRefreshSchedule' && !map.has(schedule.ScheduleId)) {
          fail(404, 'ResourceNotFoundException', 'No such schedule')
          return
        }
        map.set(schedule.ScheduleId, schedule)
        send(200, {ScheduleId: schedule.ScheduleId})
        return
      }

      default: {
        fail(400, 'InvalidParameterValueException', `the fake does not serve ${method} ${path}`)
        return
      }
    }
  }

  private describe(i: FakeIngestion): object {
    const rows = this.options.rows ?? {ingested: 1200, dropped: 3, total: 5400}
    return {
      IngestionId: i.id,
      IngestionStatus: i.status,
      RequestSource: 'MANUAL',
      RequestType: i.type,
      CreatedTime: i.created,
      ...(i.status === 'COMPLETED'
        ? {
            RowInfo: {RowsIngested: rows.ingested, RowsDropped: rows.dropped, TotalRowsInDataset: rows.total},
            IngestionTimeInSeconds: 42,
          }
        : {}),
      ...(i.error ? {ErrorInfo: i.error} : {}),
    }
  }
}

function actionOf(method: string, depth: number, sub: string | undefined): string {
  if (depth === 3) return 'ListDataSets'
  if (depth === 4) return 'DescribeDataSet'
  if (sub === 'ingestions')
    return depth === 5 ? 'ListIngestions' : method === 'PUT' ? 'CreateIngestion' : 'DescribeIngestion'
  if (sub === 'refresh-properties')
    return method === 'PUT' ? 'PutDataSetRefreshProperties' : 'DescribeDataSetRefreshProperties'
  if (sub === 'refresh-schedules')
    return method === 'POST'
      ? 'CreateRefreshSchedule'
      : method === 'PUT'
        ? 'UpdateRefreshSchedule'
        : 'ListRefreshSchedules'
  return 'Unknown'
}
