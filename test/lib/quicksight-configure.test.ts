import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {AwsError} from '../../src/lib/errors.js'
import {configureRefresh, crawlerCheck} from '../../src/lib/quicksight/configure.js'
import {named} from '../settings.js'

const AT = new Date('2026-01-15T12:00:00Z')
const WANTED = {time: {hour: 3, minute: 0}, timezone: 'UTC'}

describe('crawlerCheck', () => {
  it('measures a daily crawler against the refresh time', () => {
    assert.deepEqual(crawlerCheck('c', {expression: 'cron(0 1 * * ? *)'}, WANTED, AT), {
      name: 'c',
      schedule: 'cron(0 1 * * ? *)',
      minutesBefore: 120,
    })
  })

  it('notes, never fails, a crawler without a schedule, with one that is not daily, or that cannot be read', () => {
    assert.match(crawlerCheck('c', {}, WANTED, AT).note ?? '', /it has no schedule \(it runs on demand\)/)
    const weekly = crawlerCheck('c', {expression: 'cron(0 1 ? * MON *)'}, WANTED, AT)
    assert.equal(weekly.minutesBefore, undefined)
    assert.match(weekly.note ?? '', /is not daily: it does not run every day; the two-hour check was skipped/)
    const denied = new AwsError('AWS_ACCESS_DENIED', 'Access denied: glue:GetCrawler')
    assert.match(crawlerCheck('c', {error: denied}, WANTED, AT).note ?? '', /Could not check .* c: Access denied/)
  })
})

describe('configureRefresh', () => {
  const deps = (crawlerSchedule: (name: string) => Promise<string | undefined>) => ({
    ensureLookback: async (days: number) => (days === 7 ? ('unchanged' as const) : ('updated' as const)),
    ensureDailySchedule: async () => ({id: 'kubecost-cid-daily', change: 'created'}),
    crawlerSchedule,
    now: () => AT,
  })
  const options = {dataSetId: 'ds', accountId: '111122223333', region: 'us-east-1', lookbackDays: 7, crawler: 'c'}

  it('returns the window, the schedule and a warning when the refresh follows the crawler by less than two hours', async () => {
    const {result, failure} = await configureRefresh(
      deps(async () => 'cron(30 2 * * ? *)'),
      {...options, wanted: WANTED},
    )
    assert.equal(failure, undefined)
    assert.deepEqual(result.lookback, {column: 'window.start', days: 7, change: 'unchanged'})
    assert.equal(result.schedule?.time, '03:00')
    assert.equal(result.schedule?.change, 'created')
    assert.equal(result.crawler?.minutesBefore, 30)
    assert.equal(result.warnings.length, 1)
    assert.match(
      named(result.warnings[0] ?? '', 'refresh-dataset'),
      /starts 30 min after crawler c .*Set --schedule-time at least two hours after the crawler/,
    )
  })

  it('no warning at two hours or more; an unreadable schedule is a warning note, an unexpected error is thrown', async () => {
    const {result: ok} = await configureRefresh(
      deps(async () => 'cron(0 1 * * ? *)'),
      {...options, wanted: WANTED},
    )
    assert.deepEqual(ok.warnings, [])
    const {result: unreadable} = await configureRefresh(
      deps(async () => Promise.reject(new AwsError('AWS_NOT_FOUND', 'no crawler c'))),
      {...options, wanted: WANTED},
    )
    assert.match(unreadable.warnings[0] ?? '', /Could not check the refresh against crawler c: no crawler c/)
    await assert.rejects(
      configureRefresh(
        deps(async () => Promise.reject(new TypeError('bug'))),
        {...options, wanted: WANTED},
      ),
      TypeError,
    )
  })

  it('a schedule that cannot be set after the window was: the window is handed back with the failure', async () => {
    const refused = new AwsError('AWS_ACCESS_DENIED', 'Access denied: quicksight:CreateRefreshSchedule')
    let crawlerReads = 0
    const {result, failure} = await configureRefresh(
      {
        ...deps(async () => {
          crawlerReads++
          return 'cron(0 1 * * ? *)'
        }),
        ensureLookback: async () => 'created' as const,
        ensureDailySchedule: async () => Promise.reject(refused),
      },
      {...options, wanted: WANTED},
    )
    assert.equal(failure, refused)
    assert.deepEqual(result, {
      dataSetId: 'ds',
      accountId: '111122223333',
      region: 'us-east-1',
      lookback: {column: 'window.start', days: 7, change: 'created'},
      warnings: [],
    })
    assert.equal(crawlerReads, 0)
  })
})
