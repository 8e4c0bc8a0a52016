import assert from 'node:assert/strict'
import {afterEach, describe, it} from 'node:test'

import {QuickSightFake, type QuickSightFakeOptions} from '../fakes/quicksight.js'
import {runCli} from '../helpers.js'

const DATASET = 'e88edf48-f2cd-4c23-b6a4-e2b3034e2c41'
const BASE: QuickSightFakeOptions = {
  datasets: {[DATASET]: 'eks_insights'},
  crawlers: {kubecost_crawler: 'cron(0 1 * * ? *)'},
}

let fake: QuickSightFake | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function refresh(args: string[], options: QuickSightFakeOptions = {}) {
  fake = await QuickSightFake.start({...BASE, ...options})
  const result = await runCli(['refresh-dataset', '--poll-ms', '20', ...args], fake.env)
  return {...result, fake}
}

const count = (f: QuickSightFake, action: string) => f.actions.filter(a => a === action).length
const json = (stdout: string) =>
  JSON.parse(stdout) as Record<string, unknown> & {
    error?: {code: string; message: string; exitCode: number; suggestions: string[]}
    result?: Record<string, unknown>
  }

describe('refresh-dataset: one refresh', () => {
  it('starts a full ingestion, follows it to COMPLETED and reports the rows; the account comes from STS', async () => {
    const {code, stdout, stderr, fake: f} = await refresh([])
    assert.equal(code, 0, stderr)
    assert.match(
      stdout,
      /^Ingestion [0-9a-f-]{36} COMPLETED: 1200 rows ingested, 3 dropped, 5400 in the dataset, 42 s\n$/,
    )
    assert.match(stderr, /Started full ingestion [0-9a-f-]{36} of dataset eks_insights/)
    assert.match(stderr, /: RUNNING, /)
    assert.equal(count(f, 'sts:GetCallerIdentity'), 1)
    const [ingestion] = f.ingestions.get(DATASET) ?? []
    assert.equal(ingestion?.type, 'FULL_REFRESH')
    assert.equal(ingestion?.status, 'COMPLETED')
  })

  it('--type incremental under --json: the result, and an --account-id saves the STS call', async () => {
    const {
      code,
      stdout,
      stderr,
      fake: f,
    } = await refresh(['--type', 'incremental', '--json', '--account-id', '111122223333'])
    assert.equal(code, 0, stderr)
    const result = json(stdout)
    assert.equal(result.attached, false)
    assert.equal(result.accountId, '111122223333')
    assert.deepEqual(
      {...(result.ingestion as object), id: 'x'},
      {id: 'x', status: 'COMPLETED', rowsIngested: 1200, rowsDropped: 3, totalRows: 5400, seconds: 42},
    )
    assert.equal(f.ingestions.get(DATASET)?.[0]?.type, 'INCREMENTAL_REFRESH')
    assert.equal(count(f, 'sts:GetCallerIdentity'), 0)
  })

  it("a FAILED ingestion exits 1 with QuickSight's error type and message", async () => {
    const {code, stderr} = await refresh([], {
      failWith: {Type: 'SQL_INVALID_PARAMETER_VALUE', Message: 'Query failed: column not found'},
    })
    assert.equal(code, 1)
    assert.match(
      stderr,
      /Error: Ingestion [0-9a-f-]{36} of dataset e88edf48-f2cd-4c23-b6a4-e2b3034e2c41 FAILED \(SQL_INVALID_PARAMETER_VALUE: Query failed: column not found\)/,
    )
    assert.match(stderr, /Try: Open the dataset's refresh history/)
  })

  it('a FAILED ingestion under --json prints the result and exits 1', async () => {
    const {code, stdout} = await refresh(['--json'], {failWith: {Type: 'INTERNAL_SERVICE_ERROR', Message: 'boom'}})
    assert.equal(code, 1)
    assert.equal(json(stdout).error?.code, 'QUICKSIGHT_INGESTION_FAILED')
    assert.deepEqual((json(stdout).result?.ingestion as {error: unknown}).error, {
      type: 'INTERNAL_SERVICE_ERROR',
      message: 'boom',
    })
  })

  it('a CANCELLED ingestion exits 1 too, saying QuickSight gave no reason', async () => {
    const {code, stdout} = await refresh(['--json'], {cancel: true})
    assert.equal(code, 1)
    assert.equal((json(stdout).result?.ingestion as {status: string}).status, 'CANCELLED')
    const text = await runCli(['refresh-dataset', '--poll-ms', '20'], (fake as QuickSightFake).env)
    assert.equal(text.code, 1)
    assert.match(
      text.stderr,
      /Error: Ingestion [0-9a-f-]{36} of dataset e88edf48-f2cd-4c23-b6a4-e2b3034e2c41 CANCELLED \(QuickSight gave no reason\)/,
    )
  })

  it('attaches to an ingestion already running instead of starting one', async () => {
    fake = await QuickSightFake.start(BASE)
    fake.addIngestion(DATASET, 'nightly-1', 'RUNNING')
    const {code, stdout, stderr} = await runCli(['refresh-dataset', '--poll-ms', '20', '--json'], fake.env)
    assert.equal(code, 0, stderr)
    const result = json(stdout)
    assert.equal(result.attached, true)
    assert.equal((result.ingestion as {id: string; status: string}).id, 'nightly-1')
    assert.equal((result.ingestion as {status: string}).status, 'COMPLETED')
    assert.equal(count(fake, 'quicksight:CreateIngestion'), 0)
  })

  it('follows the ingestion another run started between the listing and the start', async () => {
    const {code, stdout, stderr, fake: f} = await refresh(['--json'], {raceWith: 'console-1'})
    assert.equal(code, 0, stderr)
    const result = json(stdout) as {attached: boolean; ingestion: {id: string; status: string}}
    assert.deepEqual([result.attached, result.ingestion.id, result.ingestion.status], [true, 'console-1', 'COMPLETED'])
    assert.equal(f.ingestions.get(DATASET)?.length, 1)
    assert.equal(count(f, 'quicksight:ListIngestions'), 2)
  })

  it('--no-wait starts the ingestion and returns without following it', async () => {
    const {code, stdout, stderr, fake: f} = await refresh(['--no-wait'])
    assert.equal(code, 0, stderr)
    assert.match(stdout, /^Started full ingestion [0-9a-f-]{36}; not waiting \(--no-wait\)\.\n$/)
    assert.equal(count(f, 'quicksight:DescribeIngestion'), 0)
    assert.equal(f.ingestions.get(DATASET)?.[0]?.status, 'QUEUED')
  })

  it('--timeout: exit 1 naming the state, the flag and that the ingestion carries on', async () => {
    const {code, stdout, stderr} = await refresh(['--timeout', '0.4'], {stall: true})
    assert.equal(code, 1)
    assert.match(stdout, /^Started full ingestion [0-9a-f-]{36}; last seen RUNNING\n$/)
    assert.match(
      stderr,
      /Error: Ingestion [0-9a-f-]{36} of dataset e88edf48-f2cd-4c23-b6a4-e2b3034e2c41 was still RUNNING after 0 s \(--timeout\)\n/,
    )
    assert.match(stderr, /Try: .*run refresh-dataset again to attach to it, or raise --timeout \(REFRESH_TIMEOUT\)/)
  })
})

describe('refresh-dataset: a run that fails after it started something', () => {
  it('a dataset deleted while its ingestion is awaited is named as gone at once: exit 1, the start reported', async () => {
    // Without the check, the wait would end only at --timeout.
    const {code, stdout, stderr} = await refresh(['--timeout', '120'], {deletedAfterPolls: 1})
    assert.equal(code, 1)
    assert.match(stdout, /^Started full ingestion [0-9a-f-]{36}; last seen INITIALIZED\n$/)
    assert.match(
      stderr,
      /Error: Ingestion [0-9a-f-]{36} of dataset e88edf48-f2cd-4c23-b6a4-e2b3034e2c41 is gone \(last seen INITIALIZED\): the dataset was deleted, or replaced, while this run waited/,
    )
    assert.match(stderr, /Try: Check that dataset e88edf48-f2cd-4c23-b6a4-e2b3034e2c41 still exists in QuickSight/)
  })

  it('under --json the ingestion as last seen comes with the failure', async () => {
    const {code, stdout} = await refresh(['--json', '--timeout', '120'], {deletedAfterPolls: 2})
    assert.equal(code, 1)
    const parsed = json(stdout)
    const result = (parsed.result ?? parsed) as {attached: boolean; ingestion: {status: string}}
    assert.deepEqual([result.attached, result.ingestion.status], [false, 'RUNNING'])
  })

  it('a schedule refused after the window was set: the window line, then the error; --json the same', async () => {
    const {
      code,
      stdout,
      stderr,
      fake: f,
    } = await refresh(['--configure-schedule'], {
      deny: ['quicksight:CreateRefreshSchedule'],
    })
    assert.equal(code, 1)
    assert.equal(stdout, 'Incremental refresh window: 4 days on window.start (created)\n')
    assert.match(stderr, /Error: Access denied: quicksight:CreateRefreshSchedule on /)
    assert.ok(f.refreshProperties.has(DATASET))

    await f.close()
    const asJson = await refresh(['--configure-schedule', '--json'], {deny: ['quicksight:CreateRefreshSchedule']})
    assert.equal(asJson.code, 1)
    const parsed = json(asJson.stdout)
    const result = (parsed.result ?? parsed) as {lookback: {change: string}; schedule?: unknown}
    assert.deepEqual([result.lookback.change, result.schedule], ['created', undefined])
  })
})

describe('refresh-dataset: errors', () => {
  it("a dataset not found lists the account's datasets that look like the dashboard's, exit 1", async () => {
    const datasets = {'53076fa4-4238-a2e1-8672-3909f0621986': 'cca_kubecost_view', aaa: 'sales', bbb: 'kubecost-test'}
    const {code, stdout} = await refresh(['--json'], {datasets})
    assert.equal(code, 1)
    const {error} = json(stdout)
    assert.equal(error?.code, 'QUICKSIGHT_DATASET_NOT_FOUND')
    assert.equal(
      error?.message,
      'QuickSight dataset e88edf48-f2cd-4c23-b6a4-e2b3034e2c41 was not found in account 111122223333, region us-east-1',
    )
    assert.equal(
      error?.suggestions[0],
      "Datasets there that look like the dashboard's: cca_kubecost_view (53076fa4-4238-a2e1-8672-3909f0621986), kubecost-test (bbb). Pass one with --dataset-id (QUICKSIGHT_DATASET_ID).",
    )
  })

  it('a dataset not found with no look-alike says to check the region and account', async () => {
    const {code, stdout} = await refresh(['--json', '--dataset-id', 'nope'], {datasets: {aaa: 'sales'}})
    assert.equal(code, 1)
    assert.match(
      json(stdout).error?.suggestions[0] ?? '',
      /No dataset there looks like the dashboard's .*check --region \(the QuickSight region\) and --account-id/,
    )
  })

  it('access denied names the action, the resource and the identity', async () => {
    const {code, stdout} = await refresh(['--json'], {deny: ['quicksight:CreateIngestion']})
    assert.equal(code, 1)
    const {error} = json(stdout)
    assert.equal(error?.code, 'AWS_ACCESS_DENIED')
    assert.match(
      error?.message ?? '',
      /^Access denied: quicksight:CreateIngestion on arn:aws:quicksight:us-east-1:111122223333:dataset\/e88edf48-f2cd-4c23-b6a4-e2b3034e2c41\/ingestion\/[0-9a-f-]{36} as the access key in AWS_ACCESS_KEY_ID \(AccessDeniedException\)$/,
    )
    assert.match(error?.suggestions[0] ?? '', /^Allow quicksight:CreateIngestion on /)
  })

  it('access denied on a dataset other than the one the printed policy names says the id may be wrong', async () => {
    const other = '53076fa4-4238-a2e1-8672-3909f0621986'
    const {code, stdout} = await refresh(['--json', '--dataset-id', other], {
      datasets: {[other]: 'cca_kubecost_view'},
      deny: ['quicksight:DescribeDataSet'],
    })
    assert.equal(code, 1)
    const {error} = json(stdout)
    assert.equal(error?.code, 'AWS_ACCESS_DENIED')
    assert.equal(
      error?.suggestions[0],
      `dataset ${other} is not ${DATASET}, the dataset the policy printed by iam-policy allows unless given another, and a name the policy does not allow is denied rather than reported missing: if ${other} is mistyped, correct --dataset-id (QUICKSIGHT_DATASET_ID); if it is right, print the policy again with iam-policy --dataset-id ${other}.`,
    )
    await fake?.close()
    const usual = await refresh(['--json'], {deny: ['quicksight:DescribeDataSet']})
    assert.match(json(usual.stdout).error?.suggestions[0] ?? '', /^Allow quicksight:DescribeDataSet on /)
  })

  it('access denied reading a crawler of another name is noted with the same hint; the schedule is still set', async () => {
    const {code, stdout, stderr} = await refresh(['--configure-schedule', '--crawler', 'nightly', '--json'], {
      deny: ['glue:GetCrawler'],
    })
    assert.equal(code, 0, stderr)
    assert.match(
      (json(stdout) as {warnings: string[]}).warnings[0] ?? '',
      /^Could not check the refresh against crawler nightly: Access denied: glue:GetCrawler on crawler nightly .*; the two-hour check was skipped\. crawler nightly is not kubecost_crawler, .*: if nightly is mistyped, correct --crawler \(GLUE_CRAWLER\); if it is right, change crawler kubecost_crawler to nightly in that policy's resources\.$/,
    )
  })

  it('the ingestion limit reached is its own error with a next step', async () => {
    const {code, stdout} = await refresh(['--json'], {dailyLimit: 0})
    assert.equal(code, 1)
    const {error} = json(stdout)
    assert.equal(error?.code, 'QUICKSIGHT_INGESTION_LIMIT')
    assert.match(error?.message ?? '', /the dataset's ingestion limit \(refreshes per 24 hours\) is reached/)
    assert.match(error?.suggestions[0] ?? '', /^Wait until the oldest refresh/)
  })

  it('QuickSight not set up in the region (or another account given) is its own error', async () => {
    const {code, stdout} = await refresh(['--json', '--region', 'eu-west-1'], {subscribed: false})
    assert.equal(code, 1)
    const {error} = json(stdout)
    assert.equal(error?.code, 'QUICKSIGHT_NOT_SUBSCRIBED')
    assert.equal(error?.message, 'QuickSight is not set up for account 111122223333 in region eu-west-1')
    assert.match(
      error?.suggestions[0] ?? '',
      /Sign up for QuickSight \(Enterprise edition\).*--region \(QUICKSIGHT_REGION\)/,
    )
  })

  it('an edition without incremental refresh refuses --configure-schedule, exit 1', async () => {
    const {code, stdout} = await refresh(['--json', '--configure-schedule'], {edition: 'STANDARD'})
    assert.equal(code, 1)
    const {error} = json(stdout)
    assert.equal(error?.code, 'AWS_UNSUPPORTED_EDITION')
    assert.match(
      error?.message ?? '',
      /^QuickSight refused quicksight:DescribeDataSetRefreshProperties on .*: the account's edition or pricing plan does not support it \(UnsupportedUserEditionException: /,
    )
  })
})

describe('refresh-dataset --configure-schedule', () => {
  it('creates the window and the schedule, then reports unchanged, then updates when the time changes', async () => {
    fake = await QuickSightFake.start(BASE)
    const run = async (args: string[]) => {
      const r = await runCli(
        ['refresh-dataset', '--configure-schedule', '--json', ...args],
        (fake as QuickSightFake).env,
      )
      assert.equal(r.code, 0, r.stderr)
      return json(r.stdout) as {
        lookback: {change: string}
        schedule: {change: string; time: string}
        warnings: string[]
      }
    }

    const first = await run([])
    assert.deepEqual([first.lookback.change, first.schedule.change], ['created', 'created'])
    assert.deepEqual(first.warnings, [])
    assert.deepEqual(fake.refreshProperties.get(DATASET), {
      RefreshConfiguration: {
        IncrementalRefresh: {LookbackWindow: {ColumnName: 'window.start', Size: 4, SizeUnit: 'DAY'}},
      },
    })
    assert.deepEqual(
      [...(fake.schedules.get(DATASET)?.values() ?? [])],
      [
        {
          ScheduleId: 'kubecost-cid-daily',
          RefreshType: 'INCREMENTAL_REFRESH',
          ScheduleFrequency: {Interval: 'DAILY', TimeOfTheDay: '03:00', Timezone: 'UTC'},
        },
      ],
    )
    const second = await run([])
    assert.deepEqual([second.lookback.change, second.schedule.change], ['unchanged', 'unchanged'])
    assert.equal(count(fake, 'quicksight:PutDataSetRefreshProperties'), 1)
    const third = await run(['--schedule-time', '04:30', '--lookback-days', '7'])
    assert.deepEqual(
      [third.lookback.change, third.schedule.change, third.schedule.time],
      ['updated', 'updated', '04:30'],
    )
    assert.equal(fake.schedules.get(DATASET)?.size, 1)
    assert.equal(fake.schedules.get(DATASET)?.get('kubecost-cid-daily')?.ScheduleFrequency.TimeOfTheDay, '04:30')
    assert.equal(count(fake, 'quicksight:CreateIngestion'), 0)
  })

  it('prints what it did in text mode', async () => {
    const {code, stdout, stderr} = await refresh(['--configure-schedule'])
    assert.equal(code, 0, stderr)
    assert.equal(
      stdout,
      'Incremental refresh window: 4 days on window.start (created)\nDaily incremental refresh kubecost-cid-daily at 03:00 UTC (created)\n',
    )
  })

  it('refuses a look-back window below 4 days with the reason before calling AWS, exit 2', async () => {
    const {code, stderr, fake: f} = await refresh(['--configure-schedule', '--lookback-days', '3'])
    assert.equal(code, 2)
    assert.match(
      stderr,
      /Error: Invalid --lookback-days \(LOOKBACK_DAYS\) "3": the look-back window must be at least 4 days/,
    )
    assert.deepEqual(f.actions, [])
  })

  it('warns when the refresh starts less than two hours after the crawler', async () => {
    const {code, stdout, stderr} = await refresh(['--configure-schedule', '--schedule-time', '02:30', '--json'])
    assert.equal(code, 0, stderr)
    const result = json(stdout) as {warnings: string[]; crawler: {minutesBefore: number}}
    assert.equal(result.crawler.minutesBefore, 90)
    assert.match(
      result.warnings[0] ?? '',
      /^The refresh at 02:30 UTC starts 90 min after crawler kubecost_crawler \(cron\(0 1 \* \* \? \*\), UTC\): less than two hours/,
    )
    assert.match(stderr, /WARNING .*starts 90 min after crawler kubecost_crawler/)
  })

  it('skips the two-hour check, saying why, for a crawler that is not daily or cannot be read', async () => {
    const weekly = await refresh(['--configure-schedule', '--json'], {
      crawlers: {kubecost_crawler: 'cron(0 1 ? * MON *)'},
    })
    assert.equal(weekly.code, 0, weekly.stderr)
    assert.deepEqual((json(weekly.stdout) as {warnings: string[]}).warnings, [
      'Could not check the refresh against crawler kubecost_crawler: its schedule cron(0 1 ? * MON *) is not daily: it does not run every day; the two-hour check was skipped.',
    ])
    await fake?.close()
    const missing = await refresh(['--configure-schedule', '--json', '--crawler', 'other'])
    assert.equal(missing.code, 0, missing.stderr)
    assert.match(
      (json(missing.stdout) as {warnings: string[]}).warnings[0] ?? '',
      /^Could not check the refresh against crawler other: Not found: glue:GetCrawler on crawler other failed \(EntityNotFoundException/,
    )
  })
})
