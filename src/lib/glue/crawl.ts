/**
 * Running the crawler that adds each day's partitions: start it, or attach to a crawl already
 * under way (the schedule's, someone else's), wait with back-off until the crawler is READY again
 * with a new last crawl, and report that crawl. A crawl is told apart from the one before by its
 * start time and message prefix, never by comparing our clock with AWS's. GetCrawlerMetrics counts
 * only tables, so the partitions a crawl added are counted in the catalog: those of the crawler's
 * catalog-target tables before the crawl and after it.
 */
import {AwsError} from '../errors.js'
import {type Clock, type PollResult, type ProgressEvent, waitOrFail} from '../wait.js'
import {flag} from '../settings.js'

export interface LastCrawl {
  Status?: string
  ErrorMessage?: string
  LogGroup?: string
  LogStream?: string
  MessagePrefix?: string
  StartTime?: Date
}

export interface CatalogTargets {
  CatalogTargets?: Array<{DatabaseName?: string; Tables?: string[]}>
}

export interface CrawlerApi {
  getCrawler(name: string): Promise<{State?: string; LastCrawl?: LastCrawl; Targets?: CatalogTargets} | undefined>
  /** How many partitions a table has (every page of GetPartitions). */
  countPartitions(database: string, table: string): Promise<number>
  startCrawler(name: string): Promise<'started' | 'running'>
  crawlerMetrics(
    name: string,
  ): Promise<{tablesCreated?: number; tablesUpdated?: number; tablesDeleted?: number; lastRuntimeSeconds?: number}>
}

export interface CrawlOutcome {
  crawler: string
  /** `started` by this run, or `attached` to a crawl that was running. */
  how: 'started' | 'attached'
  /** The finished crawl's status, or RUNNING when not waited for. */
  status: string
  durationSeconds?: number
  tablesCreated?: number
  tablesUpdated?: number
  tablesDeleted?: number
  /**
   * The partitions of the crawler's catalog-target tables before and after the crawl; on attaching,
   * "before" is when this run looked, so what the crawl added until then is not in the difference.
   */
  partitions?: {before: number; after: number; changed: number}
  errorMessage?: string
  logGroup?: string
  logStream?: string
}

export interface CrawlOptions {
  wait: boolean
  timeoutMs: number
  poll: {initialMs: number; maxMs: number}
  /** How the timeout is set, for its message, e.g. "--timeout (CRAWL_TIMEOUT)". */
  timeoutSetting: string
  clock?: Clock
  signal?: AbortSignal
  onProgress?: (event: ProgressEvent) => void
}

const crawlKey = (c: LastCrawl | undefined) => (c ? `${c.StartTime?.getTime() ?? ''}|${c.MessagePrefix ?? ''}` : '')

export async function runCrawl(api: CrawlerApi, name: string, options: CrawlOptions): Promise<CrawlOutcome> {
  const current = await api.getCrawler(name)
  if (!current) {
    throw new AwsError('CRAWLER_NOT_FOUND', `Crawler ${name} does not exist`, {
      suggestions: [
        `Create it with: kubecost-cid deploy-glue ${flag('bucket')} <bucket> ${flag('crawler')} ${name} ${flag('crawlerRoleArn')} <role ARN>`,
        `Or check the region (${flag('region')}, AWS_REGION).`,
      ],
    })
  }

  const before = crawlKey(current.LastCrawl)
  const tables = targetTables(current.Targets)
  const partitionsBefore = options.wait ? await countAll(api, tables) : undefined
  const how = current.State === 'READY' && (await api.startCrawler(name)) === 'started' ? 'started' : 'attached'
  if (!options.wait) return {crawler: name, how, status: 'RUNNING'}

  const {timeoutMs, poll, clock, signal, onProgress} = options
  const last = await waitOrFail(
    async (): Promise<PollResult<LastCrawl>> => {
      const crawler = await api.getCrawler(name)
      if (crawler?.State === 'READY' && crawler.LastCrawl && crawlKey(crawler.LastCrawl) !== before)
        return {done: true, value: crawler.LastCrawl}
      return {done: false, state: crawler?.State ?? 'UNKNOWN'}
    },
    {subject: `crawler ${name}`, timeoutMs, poll, clock, signal, onProgress},
    error =>
      new AwsError(
        'CRAWL_TIMEOUT',
        `Crawler ${name} was still ${error.lastState} after ${Math.round(timeoutMs / 1000)} s (${options.timeoutSetting})`,
        {
          cause: error,
          suggestions: [
            `The crawl goes on in Glue: run kubecost-cid crawl ${flag('crawler')} ${name} again to attach to it, or raise ${options.timeoutSetting}.`,
          ],
        },
      ),
  )

  const metrics = await api.crawlerMetrics(name)
  const partitionsAfter = partitionsBefore === undefined ? undefined : await countAll(api, tables)
  return {
    crawler: name,
    how,
    status: last.Status ?? 'UNKNOWN',
    durationSeconds: metrics.lastRuntimeSeconds,
    tablesCreated: metrics.tablesCreated,
    tablesUpdated: metrics.tablesUpdated,
    tablesDeleted: metrics.tablesDeleted,
    ...(partitionsBefore !== undefined && partitionsAfter !== undefined
      ? {
          partitions: {
            before: partitionsBefore,
            after: partitionsAfter,
            changed: partitionsAfter - partitionsBefore,
          },
        }
      : {}),
    errorMessage: last.ErrorMessage,
    logGroup: last.LogGroup,
    logStream: last.LogStream,
  }
}

function targetTables(targets: CatalogTargets | undefined): Array<{database: string; table: string}> {
  return (targets?.CatalogTargets ?? []).flatMap(t =>
    t.DatabaseName ? (t.Tables ?? []).map(table => ({database: t.DatabaseName ?? '', table})) : [],
  )
}

/** The partitions of every target table; undefined when the crawler has no catalog target (an S3-target crawler). */
async function countAll(
  api: CrawlerApi,
  tables: ReadonlyArray<{database: string; table: string}>,
): Promise<number | undefined> {
  if (tables.length === 0) return undefined
  let total = 0
  for (const t of tables) total += await api.countPartitions(t.database, t.table)
  return total
}

/** "+3 partitions (12 → 15)". */
export function partitionChange(p: {before: number; after: number; changed: number}): string {
  const sign = p.changed < 0 ? '-' : '+'
  return `${sign}${Math.abs(p.changed)} partition${Math.abs(p.changed) === 1 ? '' : 's'} (${p.before} → ${p.after})`
}

/** A crawl that did not succeed, with where its log is. */
export function crawlFailure(outcome: CrawlOutcome): AwsError {
  const logs = outcome.logGroup
    ? `CloudWatch log group ${outcome.logGroup}${outcome.logStream ? `, stream ${outcome.logStream}` : ''}`
    : undefined
  return new AwsError(
    outcome.status === 'CANCELLED' ? 'CRAWL_CANCELLED' : 'CRAWL_FAILED',
    `Crawl of ${outcome.crawler} ${outcome.status}${outcome.errorMessage ? `: ${outcome.errorMessage}` : ''}`,
    {
      suggestions: [
        ...(logs ? [`Read the crawl's log: ${logs}.`] : []),
        `Objects that are not exporter files under the table location break the crawler: deploy-glue ${flag('dryRun')} lists them.`,
      ],
    },
  )
}

export function crawlLine(o: CrawlOutcome): string {
  if (o.status === 'RUNNING')
    return `crawler ${o.crawler}: ${o.how === 'started' ? 'started' : 'already running'} (not waiting)`
  const duration = o.durationSeconds === undefined ? '' : ` in ${Math.round(o.durationSeconds)} s`
  const tables = `tables created ${o.tablesCreated ?? 0}, updated ${o.tablesUpdated ?? 0}, deleted ${o.tablesDeleted ?? 0}`
  const partitions = o.partitions ? `; ${partitionChange(o.partitions)}` : ''
  return `crawler ${o.crawler}: ${o.status}${duration} (${o.how === 'started' ? 'started' : 'attached to a running crawl'}); ${tables}${partitions}`
}
