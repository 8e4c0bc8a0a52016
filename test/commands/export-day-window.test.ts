/**
 * Allocations whose window is not the day asked for: Kubecost gives every allocation its set's
 * window (the step asked for), so one outside the day is another day's data. The day fails, naming
 * the day, the allocation and its window, in single mode with and without the parse thread, and in
 * split mode (that cluster's file only). A pod that ran part of the day (its own `start`/`end`
 * inside the day's window) and an allocation without a window are the day's rows.
 */
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {dayAllocations} from '../fakes/kubecost-data.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {listFiles, runCli, tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const NOW = '2026-03-05T10:30:00Z'
const DAY = '2026-03-02'
const BEFORE = '2026-03-01'
const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const KEY = (day: string, cluster = 'prod', account = '111122223333', region = 'us-east-1') =>
  `account_id=${account}/region=${region}/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_${cluster}.snappy.parquet`

let scratch: {path: string; remove(): Promise<void>}
before(async () => {
  scratch = await tempDir('kubecost-cid-window-')
})
after(async () => {
  await scratch.remove()
})

interface Shape {
  /** The allocation (by index) whose window is the day before: none when undefined. */
  otherDayAt?: number
  cluster?: string
}

/**
 * One day's answer for each cluster, large enough for the parse thread to take most blocks. Entry
 * 5 ran 06:00 to 09:00 only, entry 6 has no window at all: both are this day's.
 */
function entriesOf(cluster: string, shape: Shape): string[] {
  const parts: string[] = []
  let i = 0
  for (const allocation of dayAllocations(DAY, {cluster, containers: 1200})) {
    const value: Record<string, unknown> = {...allocation}
    if (i === 5) Object.assign(value, {start: `${DAY}T06:00:00Z`, end: `${DAY}T09:00:00Z`, minutes: 180})
    if (i === 6) delete value.window
    if (i === shape.otherDayAt) value.window = {start: `${BEFORE}T00:00:00Z`, end: `${DAY}T00:00:00Z`}
    parts.push(`${JSON.stringify(allocation.name)}:${JSON.stringify(value)}`)
    i++
  }

  return parts
}

async function bodyFile(name: string, entries: string[]): Promise<string> {
  const file = join(scratch.path, `${name}.json`)
  await writeFile(file, `{"code":200,"status":"success","data":[{${entries.join(',')}}]}`)
  return file
}

const common = (fake: FakeKubecost, out: string) => [
  '--output-dir',
  out,
  '--kubecost-url',
  fake.url,
  '--from',
  DAY,
  '--to',
  DAY,
  '--now',
  NOW,
  '--json',
]

interface Outcome {
  date: string
  status: string
  kubecostCluster?: string
  code?: string
  error?: string
  rows?: number
}

describe('export: an allocation whose window is another day fails the day', () => {
  for (const threads of ['0', '1']) {
    it(`fails the day naming the day, the allocation and its window (--parse-threads ${threads})`, async () => {
      const entries = entriesOf('prod', {otherDayAt: 700})
      const fake = await FakeKubecost.start({
        cluster: 'prod',
        days: [DAY],
        allocationBodies: {[DAY]: await bodyFile(`single-${threads}`, entries)},
      })
      const out = await tempDir()
      try {
        const run = await runCli([
          'export',
          '--cluster-arn',
          ARN,
          ...common(fake, out.path),
          '--parse-threads',
          threads,
        ])
        assert.equal(run.code, 1, run.stderr)
        const body = JSON.parse(run.stdout) as {error: {code: string}; result: {outcomes: Outcome[]}}
        assert.equal(body.error.code, 'PARTIAL_FAILURE')
        const outcome = body.result.outcomes[0]
        assert.equal(outcome?.status, 'failed')
        assert.equal(outcome.code, 'KUBECOST_BAD_RESPONSE')
        const name = [...dayAllocations(DAY, {cluster: 'prod', containers: 1200})][700]?.name ?? ''
        assert.equal(
          outcome.error,
          `Kubecost returned allocation ${JSON.stringify(name)} with the window ${BEFORE}T00:00:00Z to ${DAY}T00:00:00Z, not within the day asked for, ${DAY} (${DAY}T00:00:00Z to 2026-03-03T00:00:00Z); the day is not written`,
        )
        assert.match(run.stderr, /Try: Kubecost answered for another window than the one asked/)
        assert.doesNotMatch(run.stderr, /Wrote \d+ rows/)
        assert.deepEqual(await listFiles(out.path), [])
      } finally {
        await fake.close()
        await out.remove()
      }
    })
  }

  it('writes a day whose allocations ran part of it or carry no window, each with the day as its window', async () => {
    const entries = entriesOf('prod', {})
    const fake = await FakeKubecost.start({
      cluster: 'prod',
      days: [DAY],
      allocationBodies: {[DAY]: await bodyFile('good', entries)},
    })
    const out = await tempDir()
    try {
      const run = await runCli(['export', '--cluster-arn', ARN, ...common(fake, out.path)])
      assert.equal(run.code, 0, run.stderr)
      const {rows} = await readParquet(join(out.path, KEY(DAY)))
      assert.equal(rows.length, entries.length)
      const dayStart = Date.parse(`${DAY}T00:00:00Z`)
      for (const row of rows) {
        assert.equal(new Date(row['window.start'] as Date).getTime(), dayStart)
        assert.equal(new Date(row['window.end'] as Date).getTime(), dayStart + 86_400_000)
      }

      const partial = [...dayAllocations(DAY, {cluster: 'prod', containers: 1200})][5]?.name
      assert.equal(rows.find(r => r.name === partial)?.minutes, 180)
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('export --split-by-cluster: an allocation of another day fails its cluster only', () => {
  it("fails that cluster's file, naming the allocation, and writes the others", async () => {
    const entries = [
      ...entriesOf('cluster-one', {}),
      ...entriesOf('cluster-two', {otherDayAt: 3}),
      ...entriesOf('cluster-three', {}),
    ]
    const fake = await FakeKubecost.start({
      days: [],
      clusters: {'cluster-one': [DAY], 'cluster-two': [DAY], 'cluster-three': [DAY]},
      allocationBodies: {[DAY]: await bodyFile('split', entries)},
    })
    const out = await tempDir()
    try {
      const run = await runCli([
        'export',
        '--split-by-cluster',
        '--cluster-map',
        'cluster-one=arn:aws:eks:us-east-1:111122223333:cluster/one',
        '--cluster-map',
        'cluster-two=arn:aws:eks:eu-west-1:444455556666:cluster/two',
        '--cluster-map',
        'cluster-three=arn:aws:eks:us-east-1:111122223333:cluster/three',
        ...common(fake, out.path),
      ])
      assert.equal(run.code, 1, run.stderr)
      const body = JSON.parse(run.stdout) as {error: {code: string}; result: {outcomes: Outcome[]}}
      assert.equal(body.error.code, 'PARTIAL_FAILURE')
      const {outcomes} = body.result
      assert.deepEqual(
        outcomes.map(o => [o.kubecostCluster, o.status, o.code]),
        [
          ['cluster-one', 'written', undefined],
          ['cluster-two', 'failed', 'KUBECOST_BAD_RESPONSE'],
          ['cluster-three', 'written', undefined],
        ],
      )
      const name = [...dayAllocations(DAY, {cluster: 'cluster-two', containers: 1200})][3]?.name ?? ''
      assert.match(
        outcomes[1]?.error ?? '',
        new RegExp(
          `^Kubecost returned allocation ${JSON.stringify(name).replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')} with the window ${BEFORE}T00:00:00Z to ${DAY}T00:00:00Z, not within the day asked for, ${DAY} `,
        ),
      )
      assert.deepEqual(await listFiles(out.path), [KEY(DAY, 'one'), KEY(DAY, 'three')].sort())
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})
