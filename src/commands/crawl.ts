import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {
  awsCallFlags,
  awsTimeouts,
  crawlerFlag,
  glueRegionFlag,
  input,
  logFlags,
  pollEvery,
  pollFlag,
  waitDeadline,
} from '../flags.js'
import type {RegionReport} from '../lib/aws/region.js'
import {type CrawlOutcome, crawlFailure, crawlLine, runCrawl} from '../lib/glue/crawl.js'
import {parseSeconds} from '../lib/validate.js'
import type {ProgressEvent} from '../lib/wait.js'

export default class Crawl extends BaseCommand {
  static override summary = "Run the Glue crawler that adds the exported days' partitions, wait, and report the crawl"
  static override description = [
    "Starts the crawler, or attaches to a crawl already running (the 01:00 schedule's, the console's), shows its state and elapsed time while it runs, then reports the crawl: status, duration, the tables it created, updated or deleted, and the partitions it added (counted in the catalog before and after).",
    'Exit 1 when the crawl failed, was cancelled or did not finish within --timeout (the crawl goes on in Glue), or when the crawler does not exist (deploy-glue creates it) or is deleted while the crawl is awaited. A crawl this run started is reported as such even when the wait then fails.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --crawler kubecost_crawler --timeout 3600 --json',
    '<%= config.bin %> <%= command.id %> --no-wait',
  ]

  static override flags = {
    crawler: crawlerFlag,
    wait: Flags.boolean({
      env: 'CRAWL_WAIT',
      allowNo: true,
      default: true,
      description: 'wait for the crawl to finish and report it (--no-wait: start it and return)',
    }),
    timeout: Flags.custom<number>({...input({flag: 'timeout', env: 'CRAWL_TIMEOUT'}, parseSeconds)})({
      description: 'how long to wait for the crawl, in seconds',
      default: 1_800_000,
      defaultHelp: async () => '1800',
    }),
    region: glueRegionFlag('crawler'),
    ...awsCallFlags('Glue, STS'),
    'poll-ms': pollFlag,
    ...logFlags,
  }

  async run(): Promise<CrawlOutcome & {awsRegion: RegionReport}> {
    const {flags} = await this.parse(Crawl)
    const logger = this.logger(flags['log-format'])
    const signal = this.abortSignal(flags.wait ? waitDeadline(flags.timeout, `crawler ${flags.crawler}`) : undefined)
    const session = await this.awsSession({
      flag: flags.region,
      regionFlag: true,
      logger,
      signal,
      aws: awsTimeouts(flags),
    })
    const {GlueCatalog} = await import('../lib/aws/glue.js')
    const catalog = new GlueCatalog(await session.client('glue'), session)
    const crawl = async (report: (event: ProgressEvent) => void) =>
      runCrawl(catalog, flags.crawler, {
        wait: flags.wait,
        timeoutMs: flags.timeout,
        timeoutSetting: '--timeout (CRAWL_TIMEOUT)',
        poll: pollEvery(flags['poll-ms'], {initialMs: 5000, maxMs: 30_000}),
        signal,
        onProgress: report,
      })
    // The wait's own failure, or the crawl's: a crawl that failed, was cancelled or timed out.
    const failureOf = ({outcome, failure}: Awaited<ReturnType<typeof crawl>>) =>
      failure ?? (outcome.status === 'SUCCEEDED' || outcome.status === 'RUNNING' ? undefined : crawlFailure(outcome))
    const ran = flags.wait
      ? await this.withProgress(`Crawling with ${flags.crawler}`, logger, flags['log-format'], crawl, failureOf)
      : await crawl(() => {})
    const outcome = {...ran.outcome, awsRegion: session.regionReport}
    if (!this.jsonEnabled()) this.log(crawlLine(outcome))
    const error = failureOf(ran)
    return error ? this.failedWith(outcome, error) : outcome
  }
}
