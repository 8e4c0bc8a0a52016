/**
 * A small in-memory Glue Data Catalog over real HTTP, speaking Glue's JSON 1.1 protocol
 * (`X-Amz-Target: AWSGlue.<Operation>`), for the CLI to reach through AWS_ENDPOINT_URL_GLUE.
 *
 * Behaviour (as Glue does):
 * - Database, table and column names are stored lower-case.
 * - GetTable returns fields nobody sent: DatabaseName, CatalogId, CreateTime, UpdateTime, VersionId,
 *   IsRegisteredWithLakeFormation, and in the storage descriptor Compressed, NumberOfBuckets (-1),
 *   StoredAsSubDirectories, BucketColumns, SortColumns; a finished crawl adds table parameters.
 * - GetCrawler returns the schedule as {ScheduleExpression, State}, the configuration re-serialised
 *   (keys sorted), State READY/RUNNING/STOPPING, and LastCrawl once a crawl has ended.
 * - StartCrawler on a crawler that is not READY fails with CrawlerRunningException. A crawl stays
 *   RUNNING for `runPolls` GetCrawler calls, then STOPPING for one, then READY with LastCrawl's
 *   status `outcome` (FAILED carries an error message and the CloudWatch log group and stream).
 * - A table's partitions are kept apart from it (`partitions`); a crawl that SUCCEEDED adds
 *   `crawl.partitionsAdded` (default 2) to each of its catalog-target tables, as the day's new
 *   account/region/year/month folders would. GetPartitions pages them `partitionPageSize` at a time
 *   (default 2, to make callers follow NextToken) and leaves out the storage descriptor's columns
 *   when asked to (ExcludeColumnSchema).
 * - UpdateTable archives the table's previous definition as a table version (GetTableVersions)
 *   unless SkipArchive is true.
 * - Crawler tags (CreateCrawler's Tags, TagResource, GetTags) are kept by ARN,
 *   arn:aws:glue:us-east-1:111122223333:crawler/<name>; UpdateCrawler leaves them as they are.
 * - With `crawl.deletedAfterPolls`, someone deletes the crawler while it crawls: after that many
 *   GetCrawler calls of the running crawl, it is gone (EntityNotFoundException from then on).
 * - A missing database, table or crawler is 400 EntityNotFoundException; an existing one on
 *   Create* is AlreadyExistsException.
 * - CreateTable and UpdateTable refuse a column or partition key name longer than 255 characters
 *   (Column.Name's length constraint) with 400 ValidationException, in the words of AWS's request
 *   validation.
 * - STS GetCallerIdentity (query protocol, on the same endpoint) answers account 111122223333, for
 *   the ARNs a caller builds; it is recorded in `stsRequests`, not `requests`.
 * - `fail(op, type, status, times, after)` makes `times` calls of an operation, after the next
 *   `after` of them, fail that way.
 * - Every request is recorded (operation and body).
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'

import {listenOnLoopback, onRequestBody, signingRegion} from './http.js'

type Json = Record<string, unknown>

export interface CrawlBehaviour {
  runPolls: number
  outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
  /** Never finishes (for timeouts). */
  forever?: boolean
  metrics?: {TablesCreated: number; TablesUpdated: number; TablesDeleted: number}
  /** Partitions a SUCCEEDED crawl adds to each target table (default 2). */
  partitionsAdded?: number
  /** The crawler is deleted after this many GetCrawler calls of a running crawl. */
  deletedAfterPolls?: number
}

interface CrawlerRecord {
  input: Json
  state: 'READY' | 'RUNNING' | 'STOPPING'
  pollsLeft: number
  startedAt?: number
  lastCrawl?: Json
  crawls: number
  /** GetCrawler calls while a crawl runs. */
  crawlPolls?: number
}

export const ACCOUNT = '111122223333'
export const crawlerArn = (name: string) => `arn:aws:glue:us-east-1:${ACCOUNT}:crawler/${name}`

export class GlueFake {
  /** Each request's operation, body, and the region it was signed for. */
  readonly requests: Array<{op: string; body: Json; region?: string}> = []
  readonly databases = new Map<string, Json>()
  readonly tables = new Map<string, Json>()
  readonly crawlers = new Map<string, CrawlerRecord>()
  /** Partitions by table (`database.table`), in the order they were added. */
  readonly partitions = new Map<string, Json[]>()
  /** Archived definitions by table (`database.table`), oldest first. */
  readonly tableVersions = new Map<string, Json[]>()
  /** Tags by resource ARN. */
  readonly tags = new Map<string, Record<string, string>>()
  readonly stsRequests: string[] = []
  partitionPageSize = 2
  crawl: CrawlBehaviour = {runPolls: 2, outcome: 'SUCCEEDED'}
  private readonly faults: Array<{op: string; type: string; status: number; times: number; after: number}> = []
  private version = 0

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<GlueFake> {
    const server = createServer()
    const fake = new GlueFake(server, await listenOnLoopback(server))
    onRequestBody(server, (req, body, res) => fake.handle(req, body, res))
    return fake
  }

  get env(): Record<string, string> {
    return {AWS_ENDPOINT_URL_GLUE: this.endpoint, AWS_ENDPOINT_URL_STS: this.endpoint}
  }

  /** The next `times` calls of `op`, after the first `after` of them, fail with `type`. */
  fail(op: string, type: string, status = 400, times = 1, after = 0): void {
    this.faults.push({op, type, status, times, after})
  }

  /** Operations that changed something, in order. */
  writes(): string[] {
    return this.requests.map(r => r.op).filter(op => !/^(Get|List)/.test(op))
  }

  table(database: string, name: string): Json | undefined {
    return this.tables.get(`${database}.${name}`)
  }

  /** Adds `count` partitions to a table, one month each from 2026-01 on, as a crawl would. */
  addPartitions(database: string, table: string, count: number): void {
    const key = `${database.toLowerCase()}.${table.toLowerCase()}`
    const list = this.partitions.get(key) ?? []
    for (let i = 0; i < count; i++) {
      const n = list.length
      const month = String((n % 12) + 1).padStart(2, '0')
      const values = ['111122223333', 'us-east-1', String(2026 + Math.floor(n / 12)), month]
      list.push({
        Values: values,
        DatabaseName: database.toLowerCase(),
        TableName: table.toLowerCase(),
        StorageDescriptor: {
          Columns: [{Name: 'window.start', Type: 'timestamp'}],
          Location: `s3://bucket/account_id=${values[0]}/region=${values[1]}/year=${values[2]}/month=${values[3]}/`,
        },
      })
    }

    this.partitions.set(key, list)
  }

  /** A crawl started by someone else (the schedule, the console). */
  startCrawl(name: string): void {
    const c = this.crawlers.get(name)
    if (!c) throw new Error(`no crawler ${name}`)
    this.begin(c)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private begin(c: CrawlerRecord): void {
    c.state = 'RUNNING'
    c.pollsLeft = this.crawl.runPolls
    c.startedAt = Date.now() / 1000
    c.crawls++
  }

  private handle(req: IncomingMessage, raw: string, res: ServerResponse): void {
    if (req.headers['x-amz-target'] === undefined && raw.includes('Action=GetCallerIdentity')) {
      this.stsRequests.push('GetCallerIdentity')
      res.writeHead(200, {'content-type': 'text/xml'})
      res.end(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:iam::${ACCOUNT}:user/test</Arn><UserId>AIDATEST</UserId><Account>${ACCOUNT}</Account>
</GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
      return
    }

    const op = String(req.headers['x-amz-target'] ?? '').replace(/^AWSGlue\./, '')
    const body = JSON.parse(raw || '{}') as Json
    this.requests.push({op, body, region: signingRegion(req)})
    const send = (status: number, payload: Json) => {
      res.writeHead(status, {'content-type': 'application/x-amz-json-1.1'})
      res.end(JSON.stringify(payload))
    }

    const error = (type: string, message: string, status = 400) => send(status, {__type: type, Message: message})
    const fault = this.faults.find(f => f.op === op && f.times > 0)
    if (fault && fault.after > 0) fault.after--
    else if (fault) {
      fault.times--
      error(fault.type, `injected ${fault.type}`, fault.status)
      return
    }

    try {
      const out = this.operation(op, body)
      if ('__type' in out) error(String(out.__type), String(out.Message))
      else send(200, out)
    } catch (error_) {
      error('InternalServiceException', String(error_), 500)
    }
  }

  private operation(op: string, body: Json): Json {
    const now = Date.now() / 1000
    const lower = (v: unknown) => String(v).toLowerCase()
    const notFound = (what: string) => ({__type: 'EntityNotFoundException', Message: `${what} not found`})
    switch (op) {
      case 'GetDatabase': {
        const db = this.databases.get(lower(body.Name))
        return db ? {Database: db} : notFound(`Database ${String(body.Name)}`)
      }

      case 'CreateDatabase': {
        const input = body.DatabaseInput as Json
        const name = lower(input.Name)
        if (this.databases.has(name)) return {__type: 'AlreadyExistsException', Message: 'Database already exists.'}
        this.databases.set(name, {...input, Name: name, CatalogId: '111122223333', CreateTime: now})
        return {}
      }

      case 'GetTable': {
        const db = lower(body.DatabaseName)
        if (!this.databases.has(db)) return notFound(`Database ${db}`)
        const table = this.tables.get(`${db}.${lower(body.Name)}`)
        return table ? {Table: table} : notFound(`Table ${String(body.Name)}`)
      }

      case 'CreateTable':
      case 'UpdateTable': {
        const db = lower(body.DatabaseName)
        if (!this.databases.has(db)) return notFound(`Database ${db}`)
        const input = body.TableInput as Json
        const key = `${db}.${lower(input.Name)}`
        const existing = this.tables.get(key)
        if (op === 'CreateTable' && existing)
          return {__type: 'AlreadyExistsException', Message: 'Table already exists.'}
        if (op === 'UpdateTable' && !existing) return notFound(`Table ${String(input.Name)}`)
        const tooLong = longColumnName(input)
        if (tooLong) return tooLong
        if (existing && body.SkipArchive !== true)
          this.tableVersions.set(key, [...(this.tableVersions.get(key) ?? []), existing])
        this.tables.set(key, this.stored(db, input, existing, now))
        return {}
      }

      case 'GetTableVersions': {
        const key = `${lower(body.DatabaseName)}.${lower(body.TableName)}`
        const current = this.tables.get(key)
        if (!current) return notFound(`Table ${String(body.TableName)}`)
        const all = [...(this.tableVersions.get(key) ?? []), current]
        return {TableVersions: all.reverse().map(Table => ({Table, VersionId: Table.VersionId}))}
      }

      case 'GetCrawler': {
        const name = String(body.Name)
        const c = this.crawlers.get(name)
        if (!c) return notFound(`Crawler entry with name ${name}`)
        if (c.state !== 'READY' && this.crawl.deletedAfterPolls !== undefined) {
          c.crawlPolls = (c.crawlPolls ?? 0) + 1
          if (c.crawlPolls > this.crawl.deletedAfterPolls) {
            this.crawlers.delete(name)
            this.tags.delete(crawlerArn(name))
            return notFound(`Crawler entry with name ${name}`)
          }
        }

        this.advance(c)
        const input = c.input
        return {
          Crawler: {
            ...input,
            Schedule: input.Schedule ? {ScheduleExpression: input.Schedule, State: 'SCHEDULED'} : undefined,
            Configuration: input.Configuration ? sortedJson(input.Configuration as string) : undefined,
            State: c.state,
            CreationTime: now,
            Version: 1,
            ...(c.lastCrawl ? {LastCrawl: c.lastCrawl} : {}),
          },
        }
      }

      case 'CreateCrawler':
      case 'UpdateCrawler': {
        const name = String(body.Name)
        const existing = this.crawlers.get(name)
        if (op === 'CreateCrawler' && existing)
          return {__type: 'AlreadyExistsException', Message: `${name} already exists`}
        if (op === 'UpdateCrawler' && !existing) return notFound(`Crawler ${name}`)
        if (existing && existing.state !== 'READY')
          return {__type: 'CrawlerRunningException', Message: `Crawler with name ${name} has already started`}
        if (op === 'UpdateCrawler' && 'Tags' in body)
          return {__type: 'InvalidInputException', Message: 'UpdateCrawler takes no Tags'}
        const {Tags: tags, ...input} = body
        if (op === 'CreateCrawler' && tags) this.tags.set(crawlerArn(name), {...(tags as Record<string, string>)})
        this.crawlers.set(
          name,
          existing
            ? {...existing, input: {...existing.input, ...input}}
            : {input, state: 'READY', pollsLeft: 0, crawls: 0},
        )
        return {}
      }

      case 'GetTags':
      case 'TagResource': {
        const arn = String(body.ResourceArn)
        const name = /^arn:aws:glue:[a-z0-9-]+:\d{12}:crawler\/(.+)$/.exec(arn)?.[1]
        if (!name || !this.crawlers.has(name)) return notFound(`Resource ${arn}`)
        if (op === 'GetTags') return {Tags: this.tags.get(arn) ?? {}}
        this.tags.set(arn, {...this.tags.get(arn), ...(body.TagsToAdd as Record<string, string>)})
        return {}
      }

      case 'StartCrawler': {
        const c = this.crawlers.get(String(body.Name))
        if (!c) return notFound(`Crawler with name ${String(body.Name)}`)
        if (c.state !== 'READY')
          return {
            __type: 'CrawlerRunningException',
            Message: `Crawler with name ${String(body.Name)} has already started`,
          }
        this.begin(c)
        return {}
      }

      case 'GetPartitions': {
        const db = lower(body.DatabaseName)
        const key = `${db}.${lower(body.TableName)}`
        if (!this.tables.has(key)) return notFound(`Table ${String(body.TableName)}`)
        const all = this.partitions.get(key) ?? []
        const start = body.NextToken ? Number(body.NextToken) : 0
        const size = Math.min(Number(body.MaxResults ?? 1000), this.partitionPageSize)
        const page = all.slice(start, start + size).map(p => {
          if (!body.ExcludeColumnSchema) return p
          const sd = {...(p.StorageDescriptor as Json)}
          delete sd.Columns
          return {...p, StorageDescriptor: sd}
        })
        const next = start + size < all.length ? String(start + size) : undefined
        return {Partitions: page, ...(next ? {NextToken: next} : {})}
      }

      case 'GetCrawlerMetrics': {
        const names = (body.CrawlerNameList as string[] | undefined) ?? []
        const m = this.crawl.metrics ?? {TablesCreated: 0, TablesUpdated: 1, TablesDeleted: 0}
        return {
          CrawlerMetricsList: names
            .filter(n => this.crawlers.has(n))
            .map(CrawlerName => ({CrawlerName, ...m, LastRuntimeSeconds: 42, StillEstimating: false})),
        }
      }

      default:
        return {__type: 'InvalidInputException', Message: `the fake does not implement ${op}`}
    }
  }

  /** Moves a running crawl one step on, as a poll observes it. */
  private advance(c: CrawlerRecord): void {
    if (c.state === 'READY' || this.crawl.forever) return
    if (c.state === 'RUNNING') {
      if (c.pollsLeft > 0) c.pollsLeft--
      else c.state = 'STOPPING'
      return
    }

    c.state = 'READY'
    const failed = this.crawl.outcome === 'FAILED'
    c.lastCrawl = {
      Status: this.crawl.outcome,
      StartTime: c.startedAt,
      LogGroup: '/aws-glue/crawlers',
      LogStream: String(c.input.Name),
      MessagePrefix: `crawl-${c.crawls}`,
      ...(failed ? {ErrorMessage: 'Internal Service Exception'} : {}),
    }
    for (const target of ((c.input.Targets as Json | undefined)?.CatalogTargets as Json[] | undefined) ?? []) {
      for (const t of (target.Tables as string[] | undefined) ?? []) {
        const table = this.tables.get(`${String(target.DatabaseName).toLowerCase()}.${t.toLowerCase()}`)
        if (table && !failed) {
          table.Parameters = {
            ...(table.Parameters as Json),
            UPDATED_BY_CRAWLER: c.input.Name,
            CrawlerSchemaSerializerVersion: '1.0',
          }
          if (this.crawl.outcome === 'SUCCEEDED')
            this.addPartitions(String(target.DatabaseName), t, this.crawl.partitionsAdded ?? 2)
        }
      }
    }
  }

  private stored(db: string, input: Json, existing: Json | undefined, now: number): Json {
    const sd = (input.StorageDescriptor ?? {}) as Json
    const lowerCols = (cols: unknown) => ((cols ?? []) as Json[]).map(c => ({...c, Name: String(c.Name).toLowerCase()}))
    return {
      ...input,
      Name: String(input.Name).toLowerCase(),
      DatabaseName: db,
      CatalogId: '111122223333',
      CreateTime: existing?.CreateTime ?? now,
      UpdateTime: now,
      VersionId: String(++this.version),
      IsRegisteredWithLakeFormation: false,
      Retention: 0,
      StorageDescriptor: {
        Compressed: false,
        NumberOfBuckets: -1,
        StoredAsSubDirectories: false,
        BucketColumns: [],
        SortColumns: [],
        ...sd,
        Columns: lowerCols(sd.Columns),
      },
      PartitionKeys: lowerCols(input.PartitionKeys),
    }
  }
}

/** Glue's Column.Name is 1 to 255 characters; AWS's request validation names the first member over it. */
const MAX_COLUMN_NAME = 255

function longColumnName(input: Json): Json | undefined {
  const lists: Array<[string, unknown]> = [
    ['tableInput.storageDescriptor.columns', (input.StorageDescriptor as Json | undefined)?.Columns],
    ['tableInput.partitionKeys', input.PartitionKeys],
  ]
  for (const [path, columns] of lists) {
    const index = ((columns ?? []) as Json[]).findIndex(c => String(c.Name).length > MAX_COLUMN_NAME)
    if (index === -1) continue
    const name = String(((columns as Json[])[index] as Json).Name)
    return {
      __type: 'ValidationException',
      Message: `1 validation error detected: Value '${name}' at '${path}.${index + 1}.member.name' failed to satisfy constraint: Member must have length less than or equal to ${MAX_COLUMN_NAME}`,
    }
  }

  return undefined
}

function sortedJson(text: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Json)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sort(x)]),
          )
        : v
  return JSON.stringify(sort(JSON.parse(text)))
}
