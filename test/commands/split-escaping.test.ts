/**
 * Cluster ids come from the cluster map and from Kubecost: printed on stdout (tables, --json) and in
 * logs, their control characters are escaped, so an id cannot forge a line or drive a terminal.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {listFiles, runCli, tempDir} from '../helpers.js'

const NOW = '2026-03-05T10:30:00Z'
const DAY = '2026-03-02'
const KEY = `account_id=111122223333/region=us-east-1/year=2026/month=03/${DAY}_one.snappy.parquet`

/** Ids as Kubecost reports them may hold C1 controls (a CSI, U+009B) and the Unicode line separator. */
const SEPARATED = 'sep\u2028id'
const CSI = 'evil\u009b31mred'
const LINE = 'x\u2028y\u2029z'
const RAW = /[\u007f-\u009f\u2028\u2029]/

describe('split mode: Kubecost-supplied ids on stdout and in logs', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({
      days: [],
      clusters: {[SEPARATED]: [DAY], [CSI]: [DAY], [LINE]: [DAY]},
      containersPerDay: 2,
    })
  })
  after(async () => fake.close())

  const args = (command: string, out: string, extra: string[] = []) => [
    command,
    '--split-by-cluster',
    '--cluster-map',
    `${SEPARATED}=arn:aws:eks:us-east-1:111122223333:cluster/one`,
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
    ...extra,
  ]

  it('backfill-plan prints every id escaped, as a table and as --json, and logs them escaped', async () => {
    const out = await tempDir()
    try {
      const text = await runCli(args('backfill-plan', out.path))
      assert.equal(text.code, 0, text.stderr)
      assert.doesNotMatch(text.stdout, RAW)
      assert.doesNotMatch(text.stderr, RAW)
      assert.match(text.stdout, /^2026-03-02 +one +sep\\u2028id +collect +account_id=/m)
      assert.ok(
        text.stdout.includes('Not mapped, not exported: "evil\\u009b31mred" (1 day), "x\\u2028y\\u2029z" (1 day)'),
      )
      assert.ok(text.stderr.includes('evil\\u009b31mred'))

      const json = await runCli(args('backfill-plan', out.path, ['--json']))
      assert.equal(json.code, 0, json.stderr)
      assert.doesNotMatch(json.stdout, RAW)
      const plan = JSON.parse(json.stdout) as {
        unmapped: Array<{kubecostCluster: string}>
        days: Array<{kubecostCluster: string}>
      }
      assert.deepEqual(
        plan.unmapped.map(u => u.kubecostCluster),
        [CSI, LINE],
      )
      assert.equal(plan.days[0]?.kubecostCluster, SEPARATED)
    } finally {
      await out.remove()
    }
  })

  it('export --dry-run prints them escaped, and export logs them escaped', async () => {
    const out = await tempDir()
    try {
      const dry = await runCli(args('export', out.path, ['--dry-run']))
      assert.equal(dry.code, 0, dry.stderr)
      assert.doesNotMatch(dry.stdout, RAW)
      assert.match(dry.stdout, /sep\\u2028id/)
      const run = await runCli(args('export', out.path, ['--log-format', 'json']))
      assert.equal(run.code, 0, run.stderr)
      assert.doesNotMatch(run.stderr, RAW)
      assert.doesNotMatch(run.stdout, RAW)
      assert.deepEqual(await listFiles(out.path), [KEY])
    } finally {
      await out.remove()
    }
  })
})
