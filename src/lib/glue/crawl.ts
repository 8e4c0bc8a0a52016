/**
 * Running the crawler that adds each day's partitions: start it, or attach to a crawl already
 * under way (the schedule's, someone else's), wait with back-off until the crawler is READY again
 * with a new last crawl, and report that crawl. A crawl is told apart from the one before by its
 * start time and message prefix, never by comparing our clock with AWS's. GetCrawlerMetrics counts
 * only tables, so the partitions a crawl added are counted in the catalog: those of the crawler's
 * catalog-target tables before the crawl and after it.
 */
import {AwsError, CidError} from '../errors.js'
import {type NamedResource, catalogObject, named} from '../iam/name-hints.js'
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
  /**
   * The finished crawl's status; RUNNING when not waited for; UNKNOWN when the wait ended without the
   * crawl's outcome (a timeout, the crawler deleted, a failed poll).
   */
  status: string
  /** With status UNKNOWN: the crawler's state when it was last seen. */
  lastState?: string
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

/** The crawl as far as it got, and the failure that ended the run after the crawl was started or joined. */
export interface CrawlRun {
  outcome: CrawlOutcome
  failure?: CidError
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

/**
 * Starts (or joins) the crawl and, when asked, waits for it. A failure before the crawl is started
 * is thrown; one after it (the wait, the crawler deleted meanwhile, the metrics) comes back with the
 * outcome so far, since the crawl goes on whatever this run does.
 */
export async function runCrawl(crawlerApi: CrawlerApi, name: string, options: CrawlOptions): Promise<CrawlRun> {
  const api = hinted(crawlerApi, name)
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
  if (!options.wait) return {outcome: {crawler: name, how, status: 'RUNNING'}}

  const {timeoutMs, poll, clock, signal, onProgress} = options
  let lastState: string | undefined
  let last: LastCrawl
  try {
    last = await waitOrFail(
      async (): Promise<PollResult<LastCrawl>> => {
        const crawler = await api.getCrawler(name)
        if (!crawler) throw crawlerGone(name, lastState)
        lastState = crawler.State ?? 'UNKNOWN'
        if (crawler.State === 'READY' && crawler.LastCrawl && crawlKey(crawler.LastCrawl) !== before)
          return {done: true, value: crawler.LastCrawl}
        return {done: false, state: lastState}
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
  } catch (error) {
    if (!(error instanceof CidError)) throw error
    return {
      outcome: {crawler: name, how, status: 'UNKNOWN', ...(lastState === undefined ? {} : {lastState})},
      failure: error,
    }
  }

  const outcome: CrawlOutcome = {
    crawler: name,
    how,
    status: last.Status ?? 'UNKNOWN',
    errorMessage: last.ErrorMessage,
    logGroup: last.LogGroup,
    logStream: last.LogStream,
  }
  try {
    const metrics = await api.crawlerMetrics(name)
    Object.assign(outcome, {
      durationSeconds: metrics.lastRuntimeSeconds,
      tablesCreated: metrics.tablesCreated,
      tablesUpdated: metrics.tablesUpdated,
      tablesDeleted: metrics.tablesDeleted,
    })
    const partitionsAfter = partitionsBefore === undefined ? undefined : await countAll(api, tables)
    if (partitionsBefore !== undefined && partitionsAfter !== undefined)
      outcome.partitions = {
        before: partitionsBefore,
        after: partitionsAfter,
        changed: partitionsAfter - partitionsBefore,
      }
  } catch (error) {
    if (!(error instanceof CidError)) throw error
    return {outcome, failure: error}
  }

  return {outcome}
}

/** The crawler disappeared while its crawl was awaited: said at once, not at the end of the timeout. */
function crawlerGone(name: string, lastState: string | undefined): AwsError {
  return new AwsError(
    'CRAWLER_GONE',
    `Crawler ${name} was deleted while this run waited for its crawl${lastState ? ` (last seen ${lastState})` : ''}`,
    {
      suggestions: [
        `Find out who deleted it (CloudTrail, glue:DeleteCrawler); re-create it with kubecost-cid deploy-glue ${flag('bucket')} <bucket> ${flag('crawler')} ${name} ${flag('crawlerRoleArn')} <role ARN>, then run crawl again.`,
      ],
    },
  )
}

/** The crawler's calls, an access denied on a crawler or table the printed policy does not name hinted as such. */
function hinted(api: CrawlerApi, name: string): CrawlerApi {
  const crawler: NamedResource = {kind: 'crawler', name, setting: 'crawler'}
  return {
    getCrawler: async n => named(crawler, api.getCrawler(n)),
    startCrawler: async n => named(crawler, api.startCrawler(n)),
    crawlerMetrics: async n => named(crawler, api.crawlerMetrics(n)),
    // The tables are the crawler's targets, named by no flag of crawl.
    countPartitions: async (database, table) =>
      named(catalogObject(database, table), api.countPartitions(database, table)),
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
  if (o.status === 'UNKNOWN')
    return `crawler ${o.crawler}: ${o.how === 'started' ? 'started' : 'attached to a running crawl'}; outcome unknown${o.lastState ? `, last seen ${o.lastState}` : ''}`
  const duration = o.durationSeconds === undefined ? '' : ` in ${Math.round(o.durationSeconds)} s`
  const tables = `tables created ${o.tablesCreated ?? 0}, updated ${o.tablesUpdated ?? 0}, deleted ${o.tablesDeleted ?? 0}`
  const partitions = o.partitions ? `; ${partitionChange(o.partitions)}` : ''
  return `crawler ${o.crawler}: ${o.status}${duration} (${o.how === 'started' ? 'started' : 'attached to a running crawl'}); ${tables}${partitions}`
}
