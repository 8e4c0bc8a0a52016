import assert from 'node:assert/strict'
import {afterEach, beforeEach, describe, it} from 'node:test'

import {GlueFake} from '../fakes/glue.js'
import {TEST_ENV} from '../fakes/s3.js'
import {runCli} from '../helpers.js'

interface CrawlJson {
  crawler: string
  how: string
  status: string
  durationSeconds?: number
  tablesUpdated?: number
  partitions?: {before: number; after: number; changed: number}
  errorMessage?: string
  logGroup?: string
  logStream?: string
}

describe('crawl', () => {
  let glue: GlueFake

  beforeEach(async () => {
    glue = await GlueFake.start()
    glue.crawlers.set('kubecost_crawler', {
      input: {
        Name: 'kubecost_crawler',
        Role: 'kubecost_glue_crawler_role',
        Targets: {CatalogTargets: [{DatabaseName: 'kubecost_db', Tables: ['kubecost_table']}]},
      },
      state: 'READY',
      pollsLeft: 0,
      crawls: 0,
    })
    glue.databases.set('kubecost_db', {Name: 'kubecost_db'})
    glue.tables.set('kubecost_db.kubecost_table', {Name: 'kubecost_table', DatabaseName: 'kubecost_db'})
    // Three months already there: more than one page of GetPartitions (the fake's pages hold two).
    glue.addPartitions('kubecost_db', 'kubecost_table', 3)
  })
  afterEach(() => glue.close())

  const crawl = (args: string[]) => runCli(['crawl', '--poll-ms', '20', ...args], {...TEST_ENV, ...glue.env})
  const starts = () => glue.requests.filter(r => r.op === 'StartCrawler').length

  it('starts the crawler, shows RUNNING then STOPPING, and reports the SUCCEEDED crawl with its metrics', async () => {
    glue.crawl = {runPolls: 2, outcome: 'SUCCEEDED', metrics: {TablesCreated: 0, TablesUpdated: 1, TablesDeleted: 0}}
    const result = await crawl([])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(
      result.stdout.trim(),
      'crawler kubecost_crawler: SUCCEEDED in 42 s (started); tables created 0, updated 1, deleted 0; +2 partitions (3 → 5)',
    )
    assert.match(result.stderr, /Crawling with kubecost_crawler/)
    assert.match(result.stderr, /crawler kubecost_crawler: RUNNING, \d+ s/)
    assert.match(result.stderr, /crawler kubecost_crawler: STOPPING, \d+ s/)
    assert.equal(starts(), 1)
  })

  it('counts the partitions of the target table before and after, every page, without column schemas', async () => {
    glue.crawl = {runPolls: 1, outcome: 'SUCCEEDED', partitionsAdded: 4}
    const result = await crawl(['--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((JSON.parse(result.stdout) as CrawlJson).partitions, {before: 3, after: 7, changed: 4})
    const pages = glue.requests.filter(r => r.op === 'GetPartitions')
    // 3 partitions before (2 pages), 7 after (4 pages), each request for the crawler's catalog target.
    assert.equal(pages.length, 6)
    for (const page of pages) {
      assert.equal(page.body.ExcludeColumnSchema, true)
      assert.deepEqual([page.body.DatabaseName, page.body.TableName], ['kubecost_db', 'kubecost_table'])
    }
    assert.deepEqual(
      pages.map(p => p.body.NextToken ?? null),
      [null, '2', null, '2', '4', '6'],
    )
  })

  it('a failed crawl adds no partitions and says so', async () => {
    glue.crawl = {runPolls: 1, outcome: 'FAILED'}
    const result = await crawl([])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /; \+0 partitions \(3 → 3\)$/m)
  })

  it('--json gives the outcome as data, and no progress', async () => {
    const result = await crawl(['--json'])
    assert.equal(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout) as CrawlJson
    assert.deepEqual(
      {how: json.how, status: json.status, durationSeconds: json.durationSeconds, tablesUpdated: json.tablesUpdated},
      {how: 'started', status: 'SUCCEEDED', durationSeconds: 42, tablesUpdated: 1},
    )
    assert.doesNotMatch(result.stderr, /RUNNING/)
  })

  it('a FAILED crawl exits 1 with its error message and CloudWatch log group and stream', async () => {
    glue.crawl = {runPolls: 1, outcome: 'FAILED'}
    const result = await crawl([])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /Error: Crawl of kubecost_crawler FAILED: Internal Service Exception/)
    assert.match(
      result.stderr,
      /Try: Read the crawl's log: CloudWatch log group \/aws-glue\/crawlers, stream kubecost_crawler\./,
    )

    const json = await crawl(['--json'])
    assert.equal(json.code, 1)
    const {error, result: outcome} = JSON.parse(json.stdout) as {
      error: {code: string; exitCode: number}
      result: CrawlJson
    }
    assert.deepEqual([error.code, error.exitCode], ['CRAWL_FAILED', 1])
    assert.deepEqual(
      {status: outcome.status, errorMessage: outcome.errorMessage, logGroup: outcome.logGroup},
      {status: 'FAILED', errorMessage: 'Internal Service Exception', logGroup: '/aws-glue/crawlers'},
    )
  })

  it('a CANCELLED crawl exits 1', async () => {
    glue.crawl = {runPolls: 0, outcome: 'CANCELLED'}
    const result = await crawl(['--json'])
    assert.equal(result.code, 1)
    assert.equal((JSON.parse(result.stdout) as {result: CrawlJson}).result.status, 'CANCELLED')
  })

  it('attaches to a crawl already running instead of starting one', async () => {
    glue.startCrawl('kubecost_crawler')
    const result = await crawl(['--json'])
    assert.equal(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout) as CrawlJson
    assert.equal(json.how, 'attached')
    assert.equal(json.status, 'SUCCEEDED')
    assert.equal(starts(), 0)
  })

  it('--no-wait starts the crawl and returns', async () => {
    const result = await crawl(['--no-wait'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout.trim(), 'crawler kubecost_crawler: started (not waiting)')
    assert.equal(glue.crawlers.get('kubecost_crawler')?.state, 'RUNNING')
  })

  it('--timeout: exit 1 naming the state, the time and the flag; the crawl goes on', async () => {
    glue.crawl = {runPolls: 0, outcome: 'SUCCEEDED', forever: true}
    const result = await crawl(['--timeout', '0.5'])
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Error: Crawler kubecost_crawler was still RUNNING after 1 s \(--timeout \(CRAWL_TIMEOUT\)\)/,
    )
    assert.match(
      result.stderr,
      /Try: The crawl goes on in Glue: run kubecost-cid crawl --crawler kubecost_crawler again to attach to it/,
    )
  })

  it('a crawler deleted while its crawl is awaited is named as gone at once: exit 1, the start reported', async () => {
    glue.crawl = {runPolls: 5, outcome: 'SUCCEEDED', deletedAfterPolls: 1}
    // Without the check, the wait would run to --timeout and report the state as UNKNOWN.
    const result = await crawl(['--timeout', '120'])
    assert.equal(result.code, 1)
    assert.equal(result.stdout.trim(), 'crawler kubecost_crawler: started; outcome unknown, last seen RUNNING')
    assert.match(
      result.stderr,
      /Error: Crawler kubecost_crawler was deleted while this run waited for its crawl \(last seen RUNNING\)/,
    )
    assert.match(
      result.stderr,
      /Try: Find out who deleted it \(CloudTrail, glue:DeleteCrawler\); re-create it with kubecost-cid deploy-glue --bucket <bucket> --crawler kubecost_crawler --crawler-role-arn <role ARN>, then run crawl again\./,
    )
    assert.doesNotMatch(result.stderr, /still UNKNOWN/)
  })

  it('a poll that fails after the crawl was started reports the start, then the error; --json gives the crawl so far', async () => {
    // The first GetCrawler reads the crawler; the next one, the first poll, is refused.
    glue.fail('GetCrawler', 'AccessDeniedException', 400, 1, 1)
    const result = await crawl([])
    assert.equal(result.code, 1)
    assert.equal(result.stdout.trim(), 'crawler kubecost_crawler: started; outcome unknown')
    assert.match(result.stderr, /Error: Access denied: glue:GetCrawler on crawler kubecost_crawler as /)
    assert.equal(starts(), 1)

    glue.crawlers.get('kubecost_crawler')!.state = 'READY'
    glue.fail('GetCrawler', 'AccessDeniedException', 400, 1, 1)
    const json = await crawl(['--json'])
    assert.equal(json.code, 1)
    const parsed = JSON.parse(json.stdout) as {error: {code: string}; result: CrawlJson}
    assert.equal(parsed.error.code, 'AWS_ACCESS_DENIED')
    assert.deepEqual(parsed.result, {
      crawler: 'kubecost_crawler',
      how: 'started',
      status: 'UNKNOWN',
      awsRegion: {name: 'us-east-1', source: 'AWS_REGION'},
    })
  })

  it('access denied on a crawler other than the one the printed policy names says the name may be wrong', async () => {
    glue.crawlers.set('kubecost_crawlr', {...glue.crawlers.get('kubecost_crawler')!})
    glue.fail('GetCrawler', 'AccessDeniedException')
    const result = await crawl(['--crawler', 'kubecost_crawlr'])
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Try: crawler kubecost_crawlr is not kubecost_crawler, the crawler the policy printed by iam-policy allows, and a name the policy does not allow is denied rather than reported missing: if kubecost_crawlr is mistyped, correct --crawler \(GLUE_CRAWLER\); if it is right, change crawler kubecost_crawler to kubecost_crawlr in that policy's resources\./,
    )
    glue.fail('GetCrawler', 'AccessDeniedException')
    const usual = await crawl([])
    assert.equal(usual.code, 1)
    assert.doesNotMatch(usual.stderr, /is not kubecost_crawler/)
  })

  it('a crawler that does not exist: exit 1 with the deploy-glue command that creates it', async () => {
    const result = await crawl(['--crawler', 'nope', '--json'])
    assert.equal(result.code, 1)
    const error = (JSON.parse(result.stdout) as {error: {code: string; message: string; suggestions: string[]}}).error
    assert.equal(error.code, 'CRAWLER_NOT_FOUND')
    assert.equal(error.message, 'Crawler nope does not exist')
    assert.match(
      error.suggestions[0] ?? '',
      /^Create it with: kubecost-cid deploy-glue --bucket <bucket> --crawler nope --crawler-role-arn <role ARN>/,
    )
  })

  it('access denied on StartCrawler names the action and the identity; a bad --timeout is exit 2', async () => {
    glue.fail('StartCrawler', 'AccessDeniedException')
    const denied = await crawl([])
    assert.equal(denied.code, 1)
    assert.match(
      denied.stderr,
      /Error: Access denied: glue:StartCrawler on crawler kubecost_crawler as the access key in AWS_ACCESS_KEY_ID/,
    )
    const bad = await crawl(['--timeout', 'soon'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /Invalid --timeout \(CRAWL_TIMEOUT\) "soon"/)
  })
})
