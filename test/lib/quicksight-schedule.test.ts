import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {classifyAwsError} from '../../src/lib/aws/errors.js'
import {InvalidInputError} from '../../src/lib/errors.js'
import {
  SCHEDULE_ID,
  activeIngestion,
  dashboardCandidates,
  ingestionPoll,
  lookbackChange,
  planSchedule,
} from '../../src/lib/quicksight/refresh.js'
import {
  minutesAfterCrawler,
  parseCrawlerCron,
  parseLookbackDays,
  parseTimeOfDay,
  parseTimezone,
  utcOffsetMinutes,
} from '../../src/lib/quicksight/schedule.js'

const N = (flag: string, env: string) => ({flag, env})

describe('the crawler schedule', () => {
  it('reads the daily start time of the original crawler cron(0 1 * * ? *)', () => {
    assert.deepEqual(parseCrawlerCron('cron(0 1 * * ? *)'), {
      kind: 'daily',
      at: {hour: 1, minute: 0},
      expression: 'cron(0 1 * * ? *)',
    })
    assert.deepEqual(parseCrawlerCron(' cron(30 23 ? * * *) '), {
      kind: 'daily',
      at: {hour: 23, minute: 30},
      expression: ' cron(30 23 ? * * *) ',
    })
  })

  it('reports several runs a day, some days only, and malformed expressions as not daily, with the reason', () => {
    assert.deepEqual(parseCrawlerCron('cron(0 1,13 * * ? *)'), {
      kind: 'other',
      expression: 'cron(0 1,13 * * ? *)',
      reason: 'it does not start at one fixed time of day',
    })
    assert.equal(parseCrawlerCron('cron(0/15 * * * ? *)').kind, 'other')
    assert.deepEqual(parseCrawlerCron('cron(0 1 ? * MON *)'), {
      kind: 'other',
      expression: 'cron(0 1 ? * MON *)',
      reason: 'it does not run every day',
    })
    assert.equal(parseCrawlerCron('cron(0 1 1 * ? *)').kind, 'other')
    assert.match(
      (parseCrawlerCron('rate(1 day)') as {reason: string}).reason,
      /not a cron\(\.\.\.\) expression of six fields/,
    )
    assert.equal(parseCrawlerCron('cron(0 25 * * ? *)').kind, 'other')
  })

  it('measures the gap in UTC, through daylight saving time, wrapping past midnight', () => {
    const winter = new Date('2026-01-15T12:00:00Z')
    const summer = new Date('2026-07-15T12:00:00Z')
    assert.equal(minutesAfterCrawler({hour: 3, minute: 0}, 'UTC', {hour: 1, minute: 0}, winter), 120)
    assert.equal(minutesAfterCrawler({hour: 2, minute: 59}, 'UTC', {hour: 1, minute: 0}, winter), 119)
    // 04:00 in Berlin is 03:00 UTC in winter, 02:00 UTC in summer.
    assert.equal(minutesAfterCrawler({hour: 4, minute: 0}, 'Europe/Berlin', {hour: 1, minute: 0}, winter), 120)
    assert.equal(minutesAfterCrawler({hour: 4, minute: 0}, 'Europe/Berlin', {hour: 1, minute: 0}, summer), 60)
    // 00:30 UTC is 23 h 30 min after a 01:00 crawler: the day before's data, not too early.
    assert.equal(minutesAfterCrawler({hour: 0, minute: 30}, 'UTC', {hour: 1, minute: 0}, winter), 1410)
    assert.equal(utcOffsetMinutes('America/New_York', winter), -300)
    assert.equal(utcOffsetMinutes('Asia/Kolkata', winter), 330)
  })
})

describe('refresh-dataset inputs', () => {
  it('takes HH:MM and refuses anything else, naming flag, variable and value', () => {
    assert.deepEqual(parseTimeOfDay('03:00', N('schedule-time', 'SCHEDULE_TIME')), {hour: 3, minute: 0})
    assert.deepEqual(parseTimeOfDay('7:05', N('schedule-time', 'SCHEDULE_TIME')), {hour: 7, minute: 5})
    for (const bad of ['24:00', '3', '03:60', '3pm']) {
      assert.throws(
        () => parseTimeOfDay(bad, N('schedule-time', 'SCHEDULE_TIME')),
        (e: InvalidInputError) =>
          e.exitCode === 2 &&
          e.message ===
            `Invalid --schedule-time (SCHEDULE_TIME) "${bad}": not a time of day; use HH:MM (24-hour), e.g. 03:00`,
      )
    }
  })

  it('refuses a look-back window under 4 days with the reason, and non-numbers', () => {
    assert.equal(parseLookbackDays('4', N('lookback-days', 'LOOKBACK_DAYS')), 4)
    assert.equal(parseLookbackDays('7', N('lookback-days', 'LOOKBACK_DAYS')), 7)
    assert.throws(
      () => parseLookbackDays('3', N('lookback-days', 'LOOKBACK_DAYS')),
      /^InvalidInputError: Invalid --lookback-days \(LOOKBACK_DAYS\) "3": the look-back window must be at least 4 days: the exporter writes each day 3 days late/,
    )
    assert.throws(() => parseLookbackDays('4.5', N('lookback-days', 'LOOKBACK_DAYS')), /not a whole number of days/)
  })

  it('knows IANA time zones and refuses others', () => {
    assert.equal(parseTimezone('Europe/Berlin', N('timezone', 'SCHEDULE_TIMEZONE')), 'Europe/Berlin')
    assert.throws(
      () => parseTimezone('Mars/Olympus', N('timezone', 'SCHEDULE_TIMEZONE')),
      /Invalid --timezone \(SCHEDULE_TIMEZONE\) "Mars\/Olympus": not an IANA time zone name/,
    )
  })
})

describe('refresh plans', () => {
  const daily = {id: SCHEDULE_ID, interval: 'DAILY', time: '03:00', timezone: 'UTC', refreshType: 'INCREMENTAL_REFRESH'}
  const wanted = {time: {hour: 3, minute: 0}, timezone: 'UTC'}

  it('creates, leaves unchanged, or updates the one daily schedule; takes over a daily one made in the console', () => {
    assert.deepEqual(planSchedule([], wanted), {action: 'create', id: SCHEDULE_ID})
    assert.deepEqual(planSchedule([daily], wanted), {action: 'unchanged', id: SCHEDULE_ID})
    assert.deepEqual(planSchedule([daily], {...wanted, timezone: 'Europe/Berlin'}), {
      action: 'update',
      id: SCHEDULE_ID,
      from: daily,
    })
    const full = {...daily, refreshType: 'FULL_REFRESH'}
    assert.equal(planSchedule([full], wanted).action, 'update')
    const console_ = {...daily, id: 'console-made', time: '06:00'}
    const weekly = {...daily, id: 'weekly', interval: 'WEEKLY'}
    assert.deepEqual(planSchedule([weekly, console_], wanted), {action: 'update', id: 'console-made', from: console_})
    assert.deepEqual(planSchedule([weekly], wanted), {action: 'create', id: SCHEDULE_ID})
  })

  it('compares the look-back window column, size and unit', () => {
    assert.equal(lookbackChange(undefined, 4), 'created')
    assert.equal(lookbackChange({column: 'window.start', size: 4, unit: 'DAY'}, 4), 'unchanged')
    assert.equal(lookbackChange({column: 'window.start', size: 96, unit: 'HOUR'}, 4), 'updated')
    assert.equal(lookbackChange({column: 'window.end', size: 4, unit: 'DAY'}, 4), 'updated')
  })

  it('ends the wait only on COMPLETED, FAILED or CANCELLED, and attaches to the newest active ingestion', () => {
    for (const status of ['COMPLETED', 'FAILED', 'CANCELLED']) assert.equal(ingestionPoll({id: 'i', status}).done, true)
    for (const status of ['QUEUED', 'INITIALIZED', 'RUNNING'])
      assert.deepEqual(ingestionPoll({id: 'i', status}), {done: false, state: status})
    const at = (s: string) => new Date(s)
    assert.equal(
      activeIngestion([
        {id: 'old', status: 'RUNNING', createdAt: at('2026-01-01T00:00:00Z')},
        {id: 'new', status: 'QUEUED', createdAt: at('2026-01-01T01:00:00Z')},
        {id: 'done', status: 'COMPLETED', createdAt: at('2026-01-01T02:00:00Z')},
      ])?.id,
      'new',
    )
    assert.equal(activeIngestion([{id: 'done', status: 'FAILED'}]), undefined)
  })

  it("finds the dashboard's datasets by name", () => {
    const all = [
      {id: '1', name: 'eks_insights'},
      {id: '2', name: 'CCA_KUBECOST_VIEW'},
      {id: '3', name: 'sales'},
      {id: '4', name: 'kubecost copy'},
      {id: '5', name: 'eks_insights_old'},
    ]
    assert.deepEqual(
      dashboardCandidates(all).map(d => d.id),
      ['1', '2', '4'],
    )
  })
})

describe('classifyAwsError for QuickSight', () => {
  const CALL = {
    action: 'quicksight:CreateIngestion',
    resource: 'arn:aws:quicksight:us-east-1:111122223333:dataset/d/ingestion/i',
    identity: 'role r',
  }
  const sdkError = (name: string, status: number) =>
    Object.assign(new Error(`${name} says no`), {name, $metadata: {httpStatusCode: status}})

  it('a limit reached is its own error, not throttling', () => {
    const error = classifyAwsError(sdkError('LimitExceededException', 409), CALL)
    assert.equal(error.code, 'AWS_LIMIT_EXCEEDED')
    assert.equal(error.exitCode, 1)
    assert.match(
      error.message,
      /^QuickSight refused quicksight:CreateIngestion on .*: a limit is reached \(HTTP 409 LimitExceededException: LimitExceededException says no\)$/,
    )
  })

  it('an unsupported edition (HTTP 403) is not taken for access denied', () => {
    for (const name of ['UnsupportedUserEditionException', 'UnsupportedPricingPlanException']) {
      const error = classifyAwsError(sdkError(name, 403), CALL)
      assert.equal(error.code, 'AWS_UNSUPPORTED_EDITION')
      assert.match(error.suggestions[0] as string, /Enterprise edition/)
    }

    assert.equal(classifyAwsError(sdkError('AccessDeniedException', 403), CALL).code, 'AWS_ACCESS_DENIED')
  })

  it('something already there (an ingestion in progress) has its own code, so the caller can follow it', () => {
    const error = classifyAwsError(sdkError('ResourceExistsException', 409), CALL)
    assert.equal(error.code, 'AWS_ALREADY_EXISTS')
    assert.match(
      error.message,
      /^Already there: quicksight:CreateIngestion on .* failed \(ResourceExistsException: ResourceExistsException says no\)$/,
    )
  })
})
