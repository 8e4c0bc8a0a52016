import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {AwsError} from '../../src/lib/errors.js'
import {
  type CatalogTargets,
  type CrawlerApi,
  type LastCrawl,
  crawlLine,
  partitionChange,
  runCrawl,
} from '../../src/lib/glue/crawl.js'
import {FakeClock} from '../fakes/clock.js'

/** A crawler whose states are scripted, one per GetCrawler. */
function scripted(
  states: Array<{State: string; LastCrawl?: LastCrawl; Targets?: CatalogTargets}>,
  start: () => 'started' | 'running',
  countPartitions: CrawlerApi['countPartitions'] = async () => 0,
): CrawlerApi & {starts: number} {
  const api = {
    starts: 0,
    getCrawler: async () => (states.length > 1 ? states.shift() : states[0]),
    startCrawler: async () => {
      api.starts++
      return start()
    },
    crawlerMetrics: async () => ({lastRuntimeSeconds: 7}),
    countPartitions,
  }
  return api
}

const OLD = {Status: 'SUCCEEDED', StartTime: new Date('2026-11-30T01:00:00Z'), MessagePrefix: 'a'}
const NEW = {Status: 'SUCCEEDED', StartTime: new Date('2026-12-01T01:00:00Z'), MessagePrefix: 'b'}
const options = (clock: FakeClock) => ({
  wait: true,
  timeoutMs: 60_000,
  poll: {initialMs: 1000, maxMs: 8000},
  timeoutSetting: '--timeout (CRAWL_TIMEOUT)',
  clock,
})

describe('runCrawl', () => {
  it('waits past a READY that still shows the previous crawl, and reports the new one', async () => {
    const clock = new FakeClock()
    const api = scripted(
      [
        {State: 'READY', LastCrawl: OLD},
        {State: 'READY', LastCrawl: OLD},
        {State: 'RUNNING', LastCrawl: OLD},
        {State: 'READY', LastCrawl: NEW},
      ],
      () => 'started',
    )
    const {outcome, failure} = await runCrawl(api, 'c', options(clock))
    assert.equal(failure, undefined)
    assert.equal(outcome.how, 'started')
    assert.equal(outcome.status, 'SUCCEEDED')
    assert.equal(outcome.durationSeconds, 7)
    assert.deepEqual(clock.sleeps, [1000, 2000])
  })

  it('a crawl started by someone else between our read and our start is attached to (CrawlerRunningException)', async () => {
    const api = scripted(
      [
        {State: 'READY', LastCrawl: OLD},
        {State: 'RUNNING', LastCrawl: OLD},
        {State: 'READY', LastCrawl: NEW},
      ],
      () => 'running',
    )
    const {outcome} = await runCrawl(api, 'c', options(new FakeClock()))
    assert.equal(outcome.how, 'attached')
    assert.equal(api.starts, 1)
  })

  it('times out at the deadline with CRAWL_TIMEOUT naming the last state and the setting, with the crawl so far', async () => {
    const clock = new FakeClock()
    const api = scripted([{State: 'RUNNING', LastCrawl: OLD}], () => 'started')
    const {outcome, failure} = await runCrawl(api, 'c', {...options(clock), timeoutMs: 10_000})
    assert.ok(failure instanceof AwsError)
    assert.equal(failure.code, 'CRAWL_TIMEOUT')
    assert.equal(failure.exitCode, 1)
    assert.equal(failure.message, 'Crawler c was still RUNNING after 10 s (--timeout (CRAWL_TIMEOUT))')
    assert.deepEqual(outcome, {crawler: 'c', how: 'attached', status: 'UNKNOWN', lastState: 'RUNNING'})
    assert.equal(crawlLine(outcome), 'crawler c: attached to a running crawl; outcome unknown, last seen RUNNING')
    assert.equal(clock.now(), 10_000)
    assert.equal(api.starts, 0)
  })

  it('a crawler deleted while its crawl is awaited is named as gone at once, not at the timeout', async () => {
    const clock = new FakeClock()
    const states: Array<{State: string; LastCrawl?: LastCrawl} | undefined> = [
      {State: 'READY', LastCrawl: OLD},
      {State: 'RUNNING', LastCrawl: OLD},
      undefined,
    ]
    const api = {...scripted([], () => 'started'), getCrawler: async () => states.shift()}
    const {outcome, failure} = await runCrawl(api, 'c', {...options(clock), timeoutMs: 1_800_000})
    assert.ok(failure instanceof AwsError)
    assert.equal(failure.code, 'CRAWLER_GONE')
    assert.equal(failure.message, 'Crawler c was deleted while this run waited for its crawl (last seen RUNNING)')
    assert.match(failure.suggestions[0] ?? '', /re-create it with kubecost-cid deploy-glue .*, then run crawl again/)
    assert.deepEqual(outcome, {crawler: 'c', how: 'started', status: 'UNKNOWN', lastState: 'RUNNING'})
    // One back-off sleep between the two polls, nowhere near the half hour.
    assert.deepEqual(clock.sleeps, [1000])
  })

  it('access denied on a crawler the printed policy does not name says the name may be wrong; on the default, not', async () => {
    const denied = () => {
      throw new AwsError('AWS_ACCESS_DENIED', 'Access denied: glue:GetCrawler on crawler x', {
        suggestions: ['Allow it.'],
      })
    }
    const api = {...scripted([], () => 'started'), getCrawler: async () => denied()}
    await assert.rejects(runCrawl(api, 'kubecost_crawlr', options(new FakeClock())), (e: unknown) => {
      assert.ok(e instanceof AwsError)
      assert.equal(e.code, 'AWS_ACCESS_DENIED')
      assert.deepEqual(e.suggestions, [
        "crawler kubecost_crawlr is not kubecost_crawler, the crawler the policy printed by iam-policy allows, and a name the policy does not allow is denied rather than reported missing: if kubecost_crawlr is mistyped, correct {{setting:crawler}}; if it is right, change crawler kubecost_crawler to kubecost_crawlr in that policy's resources.",
        'Allow it.',
      ])
      return true
    })
    await assert.rejects(runCrawl(api, 'kubecost_crawler', options(new FakeClock())), (e: unknown) => {
      assert.ok(e instanceof AwsError)
      assert.deepEqual(e.suggestions, ['Allow it.'])
      return true
    })
  })

  it('counts the partitions of every catalog-target table before and after the crawl', async () => {
    const targets = {CatalogTargets: [{DatabaseName: 'db', Tables: ['a', 'b']}]}
    const counts: Record<string, number[]> = {'db.a': [10, 12], 'db.b': [1, 2]}
    const api = scripted(
      [
        {State: 'READY', LastCrawl: OLD, Targets: targets},
        {State: 'READY', LastCrawl: NEW, Targets: targets},
      ],
      () => 'started',
      async (database, table) => counts[`${database}.${table}`]?.shift() ?? 0,
    )
    const {outcome} = await runCrawl(api, 'c', options(new FakeClock()))
    assert.deepEqual(outcome.partitions, {before: 11, after: 14, changed: 3})
    assert.match(crawlLine(outcome), /; \+3 partitions \(11 → 14\)$/)
  })

  it('reports no partition counts for a crawler without catalog targets, or when not waiting', async () => {
    const api = scripted(
      [
        {State: 'READY', LastCrawl: OLD},
        {State: 'READY', LastCrawl: NEW},
      ],
      () => 'started',
    )
    assert.equal((await runCrawl(api, 'c', options(new FakeClock()))).outcome.partitions, undefined)
    const noWait = await runCrawl(
      scripted([{State: 'READY', LastCrawl: OLD}], () => 'started'),
      'c',
      {...options(new FakeClock()), wait: false},
    )
    assert.equal(noWait.outcome.partitions, undefined)
  })

  it('words a change of partitions with its sign and both counts', () => {
    assert.equal(partitionChange({before: 3, after: 5, changed: 2}), '+2 partitions (3 → 5)')
    assert.equal(partitionChange({before: 3, after: 4, changed: 1}), '+1 partition (3 → 4)')
    assert.equal(partitionChange({before: 3, after: 3, changed: 0}), '+0 partitions (3 → 3)')
    assert.equal(partitionChange({before: 3, after: 1, changed: -2}), '-2 partitions (3 → 1)')
  })
})
