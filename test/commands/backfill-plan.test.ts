import assert from 'node:assert/strict'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ListObjectsV2Command} from '@aws-sdk/client-s3'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {type S3Fake, startS3} from '../fakes/s3.js'
import {listFiles, runCli, tempDir} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
// Today 2027-01-03: the 6 candidate days run 2026-12-26 … 2026-12-31, across the year boundary.
const NOW = '2027-01-03T05:00:00Z'
const KUBECOST_DAYS = ['2026-12-27', '2026-12-28', '2026-12-29', '2026-12-31']
const keyOf = (day: string, cluster = 'prod') =>
  `account_id=111122223333/region=us-east-1/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_${cluster}.snappy.parquet`
const OLD_CONTENT = 'an earlier export'

interface PlanJson {
  cluster: string
  range: {from: string; to: string}
  days: Array<{date: string; status: string; key: string}>
  summary: Record<string, number>
}

async function seed(dir: string, days: string[], cluster = 'prod'): Promise<void> {
  for (const day of days) {
    const path = join(dir, keyOf(day, cluster))
    await mkdir(dirname(path), {recursive: true})
    await writeFile(path, OLD_CONTENT)
  }
}

describe('backfill-plan', () => {
  let fake: FakeKubecost
  let out: Awaited<ReturnType<typeof tempDir>>
  const args = (extra: string[] = []) => [
    'backfill-plan',
    '--cluster-arn',
    ARN,
    '--output-dir',
    out.path,
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    '6',
    '--now',
    NOW,
    ...extra,
  ]

  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 4})
    out = await tempDir()
    // Present: one day Kubecost still has, one it no longer has, one outside the range, and a
    // neighbour cluster whose name contains ours.
    await seed(out.path, ['2026-12-28', '2026-12-26', '2026-12-01'])
    await seed(out.path, ['2026-12-29', '2026-12-31'], 'prod-eu')
  })
  after(async () => {
    await fake.close()
    await out.remove()
  })

  it('shows each candidate day with its status and key, then a summary', async () => {
    const result = await runCli(args())
    assert.equal(result.code, 0, result.stderr)
    assert.equal(
      result.stdout,
      [
        'DATE        STATUS       KEY',
        `2026-12-26  present      ${keyOf('2026-12-26')}`,
        `2026-12-27  collect      ${keyOf('2026-12-27')}`,
        `2026-12-28  present      ${keyOf('2026-12-28')}`,
        `2026-12-29  collect      ${keyOf('2026-12-29')}`,
        `2026-12-30  unavailable  ${keyOf('2026-12-30')}`,
        `2026-12-31  collect      ${keyOf('2026-12-31')}`,
        '6 candidate days: 2 present, 3 to collect, 1 unavailable',
        '',
      ].join('\n'),
    )
  })

  it('gives the same as JSON: days, summary counts and the candidate range', async () => {
    const result = await runCli(args(['--json']))
    assert.equal(result.code, 0, result.stderr)
    const plan = JSON.parse(result.stdout) as PlanJson
    assert.deepEqual(plan.range, {from: '2026-12-26', to: '2026-12-31'})
    assert.deepEqual(plan.summary, {present: 2, collect: 3, recollect: 0, unavailable: 1})
    assert.deepEqual(plan.days[1], {date: '2026-12-27', status: 'collect', key: keyOf('2026-12-27')})
    assert.equal(plan.cluster, 'prod')
  })

  it('marks present days of a --force range as recollect, only where Kubecost has them', async () => {
    const result = await runCli(args(['--json', '--force', '--from', '2026-12-26', '--to', '2026-12-28']))
    assert.equal(result.code, 0, result.stderr)
    const plan = JSON.parse(result.stdout) as PlanJson
    assert.deepEqual(
      plan.days.map(d => [d.date, d.status]),
      [
        ['2026-12-26', 'present'],
        ['2026-12-27', 'collect'],
        ['2026-12-28', 'recollect'],
      ],
    )
  })

  it('narrows the range with --from/--to and caps --to at today-3', async () => {
    const result = await runCli(args(['--json', '--from', '2026-12-30', '--to', '2027-01-02']))
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((JSON.parse(result.stdout) as PlanJson).range, {from: '2026-12-30', to: '2026-12-31'})
  })

  it('never writes', async () => {
    const before = await listFiles(out.path)
    await runCli(args())
    assert.deepEqual(await listFiles(out.path), before)
    assert.ok(fake.requests.every(r => r.api === 'availability'))
  })

  const usage: Array<[string, string[], RegExp]> = [
    ['--force without --from', ['--force'], /--force needs --from/],
    ['--to without --from', ['--to', '2026-12-30'], /--to 2026-12-30 needs --from/],
    [
      '--from after today-3',
      ['--from', '2027-01-01'],
      /Invalid --from "2027-01-01": is after the newest collectable day 2026-12-31/,
    ],
    [
      '--from after --to',
      ['--from', '2026-12-30', '--to', '2026-12-29'],
      /Invalid --from "2026-12-30": is after --to 2026-12-29/,
    ],
    ['a date that does not exist', ['--from', '2026-02-30'], /Invalid --from "2026-02-30": not a date; use YYYY-MM-DD/],
  ]
  for (const [what, extra, message] of usage) {
    it(`exits 2 on ${what}`, async () => {
      const result = await runCli(args(extra))
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, message)
    })
  }
})

describe('export --force, --dry-run and the run summary', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 4})
  })
  after(async () => fake.close())
  const exportArgs = (dir: string, extra: string[] = []) => [
    'export',
    '--cluster-arn',
    ARN,
    '--output-dir',
    dir,
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    '6',
    '--now',
    NOW,
    ...extra,
  ]

  it('replaces present files only inside the forced range', async () => {
    const out = await tempDir()
    try {
      await seed(out.path, ['2026-12-27', '2026-12-28', '2026-12-29', '2026-12-31'])
      const result = await runCli(exportArgs(out.path, ['--force', '--from', '2026-12-28', '--to', '2026-12-29']))
      assert.equal(result.code, 0, result.stderr)
      const content = async (day: string) => readFile(join(out.path, keyOf(day)), 'utf8')
      assert.equal(await content('2026-12-27'), OLD_CONTENT)
      assert.equal(await content('2026-12-31'), OLD_CONTENT)
      assert.ok((await content('2026-12-28')).startsWith('PAR1'))
      assert.ok((await content('2026-12-29')).startsWith('PAR1'))
      assert.match(result.stderr, /to collect: 2 \(2 forced re-collections\)/)
    } finally {
      await out.remove()
    }
  })

  it('keeps the old file of a forced day whose re-collection fails', async () => {
    const failing = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 4})
    failing.addFault({kind: 'truncate', api: 'allocation', day: '2026-12-28'})
    const out = await tempDir()
    try {
      await seed(out.path, ['2026-12-28'])
      const result = await runCli([
        'export',
        '--cluster-arn',
        ARN,
        '--output-dir',
        out.path,
        '--kubecost-url',
        failing.url,
        '--now',
        NOW,
        '--force',
        '--from',
        '2026-12-28',
        '--to',
        '2026-12-28',
      ])
      assert.equal(result.code, 1)
      assert.equal(await readFile(join(out.path, keyOf('2026-12-28')), 'utf8'), OLD_CONTENT)
      // The hint is true: a plain run skips the day (it is present), so only --force retries it.
      assert.match(
        result.stderr,
        /Try: The existing file at \S+2026-12-28_prod\.snappy\.parquet was kept\. The next plain run will not collect 2026-12-28 again \(it is present\); retry with --force --from 2026-12-28 --to 2026-12-28\./,
      )
    } finally {
      await failing.close()
      await out.remove()
    }
  })

  it('prints exactly what backfill-plan prints on --dry-run', async () => {
    const out = await tempDir()
    try {
      await seed(out.path, ['2026-12-28'])
      const dry = await runCli(exportArgs(out.path, ['--dry-run']))
      const plan = await runCli(['backfill-plan', ...exportArgs(out.path).slice(1)])
      assert.equal(dry.code, 0, dry.stderr)
      assert.equal(dry.stdout, plan.stdout)
      assert.deepEqual(await listFiles(out.path), [keyOf('2026-12-28')])
    } finally {
      await out.remove()
    }
  })

  it("reports each day's outcome in the summary and in --json, exit 1 when one failed", async () => {
    const failing = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 4})
    failing.addFault({kind: 'html-504', api: 'allocation', day: '2026-12-29'})
    const out = await tempDir()
    try {
      await seed(out.path, ['2026-12-28'])
      const args = [
        'export',
        '--cluster-arn',
        ARN,
        '--output-dir',
        out.path,
        '--kubecost-url',
        failing.url,
        '--backfill-days',
        '6',
        '--now',
        NOW,
      ]
      const result = await runCli([...args, '--json'])
      assert.equal(result.code, 1)
      const {error, result: body} = JSON.parse(result.stdout) as {
        error: {code: string}
        result: {outcomes: Array<Record<string, unknown>>; written: number; failed: number; skipped: number}
      }
      assert.equal(error.code, 'PARTIAL_FAILURE')
      assert.deepEqual(
        body.outcomes.map(o => [o.date, o.status, o.reason ?? o.rows ?? o.code]),
        [
          ['2026-12-26', 'skipped', 'unavailable'],
          ['2026-12-27', 'written', 8 + 1],
          ['2026-12-28', 'skipped', 'present'],
          ['2026-12-29', 'failed', 'KUBECOST_HTTP_STATUS'],
          ['2026-12-30', 'skipped', 'unavailable'],
          ['2026-12-31', 'written', 8 + 1],
        ],
      )
      assert.deepEqual([body.written, body.failed, body.skipped], [2, 1, 3])
      assert.match(result.stderr, /2026-12-29: failed, Kubecost Allocation API returned HTTP 504/)
      assert.match(result.stderr, /2026-12-27: written, 9 rows, account_id=/)
      assert.match(result.stderr, /Summary: 2 written, 1 failed, 3 skipped/)
    } finally {
      await failing.close()
      await out.remove()
    }
  })
})

describe('backfill-plan and dry-run against S3 make no write', () => {
  let s3: S3Fake
  let fake: FakeKubecost
  before(async () => {
    s3 = await startS3(['plan-bucket'])
    fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 4})
  })
  after(async () => {
    await fake.close()
    await s3.close()
  })

  for (const command of [['backfill-plan'], ['export', '--dry-run']]) {
    it(command.join(' '), async () => {
      const result = await runCli(
        [
          ...command,
          '--cluster-arn',
          ARN,
          '--bucket',
          'plan-bucket',
          '--s3-endpoint',
          s3.endpoint,
          '--kubecost-url',
          fake.url,
          '--now',
          NOW,
        ],
        s3.env,
      )
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /candidate days: 0 present, 4 to collect/)
      const listing = await s3.client.send(new ListObjectsV2Command({Bucket: 'plan-bucket'}))
      assert.equal(listing.KeyCount, 0)
    })
  }
})
