import assert from 'node:assert/strict'
import {readdir, rm, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type FakeNode, clusterNodes, dayAllocations} from '../fakes/kubecost-data.js'
import {FakeKubecost, type FakeKubecostOptions} from '../fakes/kubecost-server.js'
import {type CliResult, listFiles, runCli, spawnCli, tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

/*
 * A federated Kubecost primary serving several clusters, exported with --split-by-cluster over
 * real HTTP: one file per mapped cluster per day at that cluster's own key.
 */

// "Today" is 2026-03-05: the 5 candidate days are 2026-02-26 … 2026-03-02.
const NOW = '2026-03-05T10:30:00Z'
const ALL = ['2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']
const WITHOUT_0227 = ALL.filter(d => d !== '2026-02-27')

const CLUSTERS = {
  'cluster-one': {arn: 'arn:aws:eks:us-east-1:111122223333:cluster/one', account: '111122223333', region: 'us-east-1'},
  'cluster-two': {arn: 'arn:aws:eks:eu-west-1:444455556666:cluster/two', account: '444455556666', region: 'eu-west-1'},
  // The same account and region as cluster-one: one listing serves both.
  'cluster-three': {
    arn: 'arn:aws:eks:us-east-1:111122223333:cluster/three',
    account: '111122223333',
    region: 'us-east-1',
  },
} as const
type Mapped = keyof typeof CLUSTERS
const MAPPED = Object.keys(CLUSTERS) as Mapped[]

/** cluster-two has no data on 2026-02-27; unmapped-x is a cluster nobody mapped. */
const PRIMARY: Record<string, readonly string[]> = {
  'cluster-one': ALL,
  'cluster-two': WITHOUT_0227,
  'cluster-three': ALL,
  'unmapped-x': ['2026-03-01', '2026-03-02'],
}

const nameOf = (id: Mapped) => CLUSTERS[id].arn.split('/')[1] as string
const keyOf = (id: Mapped, day: string) =>
  `account_id=${CLUSTERS[id].account}/region=${CLUSTERS[id].region}/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_${nameOf(id)}.snappy.parquet`
const mapArgs = (ids: readonly Mapped[] = MAPPED) => ids.flatMap(id => ['--cluster-map', `${id}=${CLUSTERS[id].arn}`])
const windowOf = (day: string) =>
  `${day}T00:00:00Z,${new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z')}`

function splitArgs(fake: FakeKubecost, out: string, extra: string[] = [], ids: readonly Mapped[] = MAPPED): string[] {
  return [
    'export',
    '--split-by-cluster',
    ...mapArgs(ids),
    '--output-dir',
    out,
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    '5',
    '--now',
    NOW,
    '--json',
    ...extra,
  ]
}

interface Outcome {
  date: string
  cluster: string
  kubecostCluster: string
  status: string
  reason?: string
  rows?: number
  code?: string
}

interface SplitResult {
  outcomes: Outcome[]
  unmappedRows: Array<{date: string; kubecostCluster: string; rows: number; totalCost: number}>
  unmapped: Array<{kubecostCluster: string; days: string[]}>
  written: number
  failed: number
}

/** The result of a --json run; a run that failed in part prints it beside its error. */
const resultOf = (run: CliResult) =>
  run.code === 0 ? (JSON.parse(run.stdout) as SplitResult) : (JSON.parse(run.stdout) as {result: SplitResult}).result

async function start(options: Partial<FakeKubecostOptions> = {}): Promise<FakeKubecost> {
  return FakeKubecost.start({days: [], clusters: PRIMARY, containersPerDay: 30, ...options})
}

/** The instance type each node of a cluster has: its label, else the asset's nodeType. */
function instanceTypes(nodes: readonly FakeNode[]): Map<string, string> {
  return new Map(nodes.map(n => [n.name, n.labels['node.kubernetes.io/instance-type'] ?? n.nodeType]))
}

async function mtimes(dir: string): Promise<Map<string, number>> {
  const files = await listFiles(dir)
  return new Map(await Promise.all(files.map(async f => [f, (await stat(join(dir, f))).mtimeMs] as const)))
}

describe('export --split-by-cluster from a federated primary', () => {
  let fake: FakeKubecost
  let out: Awaited<ReturnType<typeof tempDir>>
  let first: CliResult

  before(async () => {
    fake = await start()
    out = await tempDir()
    first = await runCli(splitArgs(fake, out.path))
  })
  after(async () => {
    await fake.close()
    await out.remove()
  })

  it("writes one file per mapped cluster per day, each at its own cluster's key, and exits 0", async () => {
    assert.equal(first.code, 0, first.stderr)
    const expected = MAPPED.flatMap(id => (PRIMARY[id] ?? []).map(day => keyOf(id, day))).sort()
    assert.equal(expected.length, 14)
    assert.deepEqual(await listFiles(out.path), expected)
  })

  it('makes one availability call, then one assets and one allocation call per day, filtered on the clusters that need it', () => {
    const [availability, ...rest] = fake.requests
    assert.equal(availability?.api, 'availability')
    assert.equal(availability.params.aggregate, 'cluster')
    assert.equal(rest.length, 2 * ALL.length)
    ALL.forEach((day, i) => {
      assert.equal(rest[2 * i]?.api, 'assets')
      assert.equal(rest[2 * i]?.params.window, windowOf(day))
      const allocation = rest[2 * i + 1]
      assert.equal(allocation?.api, 'allocation')
      assert.equal(allocation.params.window, windowOf(day))
      assert.equal(allocation.params.aggregate, 'cluster,node,namespace,controllerKind,controller,pod,container')
      assert.equal(
        allocation.params.filter,
        day === '2026-02-27'
          ? 'cluster:"cluster-one","cluster-three"'
          : 'cluster:"cluster-one","cluster-two","cluster-three"',
      )
    })
  })

  it("holds each cluster's own rows, with sums equal to Kubecost's and the mapped ARN in clusterid and eksClusterName", async () => {
    for (const id of MAPPED) {
      for (const day of ['2026-02-28', '2026-03-02']) {
        const {rows} = await readParquet(join(out.path, keyOf(id, day)))
        const allocations = [...dayAllocations(day, fake.dataOptionsOf(id))]
        assert.deepEqual(rows.map(r => r.name).sort(), allocations.map(a => a.name).sort(), `${id} ${day}`)
        for (const row of rows) {
          assert.equal(row['properties.cluster'], id)
          assert.equal(row['properties.clusterid'], CLUSTERS[id].arn)
          assert.equal(row['properties.eksClusterName'], nameOf(id))
        }

        for (const field of ['totalCost', 'cpuCost', 'ramCost', 'pvCost', 'cpuCostAdjustment']) {
          const expected = allocations.reduce((sum, a) => sum + (typeof a[field] === 'number' ? a[field] : 0), 0)
          const actual = rows.reduce((sum, r) => sum + (r[field] as number), 0)
          assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${id} ${day} ${field}`)
        }
      }
    }
  })

  it("joins nodes per cluster: the same node name in two clusters gets each cluster's own instance type", async () => {
    const day = '2026-03-01'
    for (const [index, id] of MAPPED.entries()) {
      const types = instanceTypes(clusterNodes(index))
      const {rows} = await readParquet(join(out.path, keyOf(id, day)))
      for (const row of rows.filter(r => r['properties.node'] !== '')) {
        assert.equal(
          row['properties.node_instance_type'],
          types.get(row['properties.node'] as string),
          `${id} ${String(row.name)}`,
        )
      }
    }

    // The test means something only if the clusters' nodes share names and differ in type.
    assert.deepEqual(
      clusterNodes(0).map(n => n.name),
      clusterNodes(1).map(n => n.name),
    )
    assert.notDeepEqual([...instanceTypes(clusterNodes(0)).values()], [...instanceTypes(clusterNodes(1)).values()])
  })

  it('reports the cluster missing one day, and the unmapped cluster, whose rows are never written', () => {
    const result = resultOf(first)
    const missing = result.outcomes.find(o => o.date === '2026-02-27' && o.kubecostCluster === 'cluster-two')
    assert.deepEqual(
      {status: missing?.status, reason: missing?.reason, cluster: missing?.cluster},
      {status: 'skipped', reason: 'unavailable', cluster: 'two'},
    )
    assert.match(first.stderr, /no data for mapped cluster "cluster-two" on 2026-02-27, which other clusters have/)
    assert.deepEqual(result.unmapped, [{kubecostCluster: 'unmapped-x', days: ['2026-03-01', '2026-03-02']}])
    assert.match(first.stderr, /cluster map does not name.*"unmapped-x" \(2 days\)/)
    assert.equal(result.written, 14)
  })

  it('writes nothing on a second run, and after one file is removed collects only that cluster for that day', async () => {
    const before = await mtimes(out.path)
    const since = fake.requests.length
    const second = await runCli(splitArgs(fake, out.path))
    assert.equal(second.code, 0, second.stderr)
    assert.equal(resultOf(second).written, 0)
    assert.deepEqual(
      fake.requests.slice(since).map(r => r.api),
      ['availability'],
    )
    assert.deepEqual(await mtimes(out.path), before)

    await rm(join(out.path, keyOf('cluster-two', '2026-03-01')))
    const third = await runCli(splitArgs(fake, out.path))
    assert.equal(third.code, 0, third.stderr)
    const requests = fake.requests.slice(since + 1)
    assert.deepEqual(
      requests.map(r => r.api),
      ['availability', 'assets', 'allocation'],
    )
    assert.equal(requests[2]?.params.filter, 'cluster:"cluster-two"')
    assert.equal(requests[2]?.params.window, windowOf('2026-03-01'))
    const written = resultOf(third).outcomes.filter(o => o.status === 'written')
    assert.deepEqual(
      written.map(o => [o.date, o.kubecostCluster]),
      [['2026-03-01', 'cluster-two']],
    )
    const after = await mtimes(out.path)
    for (const [file, mtime] of before) {
      if (file !== keyOf('cluster-two', '2026-03-01')) assert.equal(after.get(file), mtime, file)
    }

    assert.ok(after.has(keyOf('cluster-two', '2026-03-01')))
  })
})

describe('export --split-by-cluster against a server that ignores the cluster filter', () => {
  let fake: FakeKubecost
  let out: Awaited<ReturnType<typeof tempDir>>
  let run: CliResult

  before(async () => {
    fake = await start({ignoreClusterFilter: true})
    out = await tempDir()
    // cluster-three is left out of the map this time.
    run = await runCli(splitArgs(fake, out.path, ['--from', '2026-03-01'], ['cluster-one', 'cluster-two']))
  })
  after(async () => {
    await fake.close()
    await out.remove()
  })

  it('reports the rows of unmapped clusters by name and count, and writes only the mapped ones', async () => {
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(
      await listFiles(out.path),
      ['cluster-one', 'cluster-two']
        .flatMap(id => ['2026-03-01', '2026-03-02'].map(d => keyOf(id as Mapped, d)))
        .sort(),
    )
    const count = (id: string, day: string) => [...dayAllocations(day, fake.dataOptionsOf(id))].length
    const unmapped = resultOf(run)
      .unmappedRows.map(u => [u.date, u.kubecostCluster, u.rows])
      .sort()
    assert.deepEqual(unmapped, [
      ['2026-03-01', 'cluster-three', count('cluster-three', '2026-03-01')],
      ['2026-03-01', 'unmapped-x', count('unmapped-x', '2026-03-01')],
      ['2026-03-02', 'cluster-three', count('cluster-three', '2026-03-02')],
      ['2026-03-02', 'unmapped-x', count('unmapped-x', '2026-03-02')],
    ])
    assert.match(
      run.stderr,
      new RegExp(
        `Kubecost returned ${count('unmapped-x', '2026-03-01')} allocations .* on 2026-03-01 for cluster "unmapped-x", which the cluster map does not name; they are not written`,
      ),
    )
    // The mapped files hold their own cluster's rows only, though the answer held every cluster's.
    const {rows} = await readParquet(join(out.path, keyOf('cluster-one', '2026-03-01')))
    assert.equal(rows.length, count('cluster-one', '2026-03-01'))
    assert.ok(rows.every(r => r['properties.cluster'] === 'cluster-one'))
  })
})

describe('export --split-by-cluster: the node-name join, clusters without rows, corrupt rows', () => {
  it('joins allocations without providerID by cluster and node name, never across clusters', async () => {
    const fake = await start({withoutProviderId: true})
    const out = await tempDir()
    try {
      const run = await runCli([...splitArgs(fake, out.path), '--from', '2026-03-02'])
      assert.equal(run.code, 0, run.stderr)
      for (const [index, id] of MAPPED.entries()) {
        const types = instanceTypes(clusterNodes(index))
        const {rows} = await readParquet(join(out.path, keyOf(id, '2026-03-02')))
        const joined = rows.filter(r => r['properties.node'] !== '')
        assert.ok(joined.length > 0)
        for (const row of joined) {
          assert.equal(row['properties.providerID'], '')
          assert.equal(row['properties.node_instance_type'], types.get(row['properties.node'] as string), id)
        }
      }
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it('reports a mapped cluster Kubecost has no data for, and one whose rows are missing from the collection', async () => {
    const fake = await start({omitFromAllocation: ['cluster-two']})
    const out = await tempDir()
    try {
      const run = await runCli([
        ...splitArgs(fake, out.path),
        '--cluster-map',
        'ghost=arn:aws:eks:us-west-2:111122223333:cluster/ghost',
        '--from',
        '2026-03-02',
      ])
      assert.equal(run.code, 1, run.stderr)
      assert.match(
        run.stderr,
        /no data for mapped cluster "ghost" \(arn:aws:eks:us-west-2:111122223333:cluster\/ghost\) on any candidate day/,
      )
      const result = resultOf(run)
      const of = (id: string) => result.outcomes.find(o => o.kubecostCluster === id)
      assert.equal(of('ghost')?.status, 'skipped')
      assert.equal(of('ghost')?.reason, 'unavailable')
      assert.equal(of('cluster-two')?.status, 'failed')
      assert.equal(of('cluster-two')?.code, 'KUBECOST_EMPTY_DAY')
      assert.match(run.stderr, /availability call, but GET .* returned no allocations for it/)
      assert.equal(of('cluster-one')?.status, 'written')
      assert.equal(of('cluster-three')?.status, 'written')
      assert.deepEqual(
        await listFiles(out.path),
        [keyOf('cluster-one', '2026-03-02'), keyOf('cluster-three', '2026-03-02')].sort(),
      )
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it("fails only the cluster whose rows are corrupt; the other clusters' files are written", async () => {
    const day = '2026-03-02'
    const out = await tempDir()
    const body = join(out.path, 'body.json')
    const entries: string[] = []
    for (const id of MAPPED) {
      for (const [i, allocation] of [...dayAllocations(day, {cluster: id, containers: 5})].entries()) {
        const text = JSON.stringify(allocation)
        // JSON has no infinities, but 1e309 parses as one.
        entries.push(
          `${JSON.stringify(allocation.name)}:${id === 'cluster-two' && i === 2 ? text.replace(/"cpuCost":[^,]+/, '"cpuCost":1e309') : text}`,
        )
      }
    }

    await writeFile(body, `{"code":200,"data":[{${entries.join(',')}}]}`)
    const fake = await start({allocationBodies: {[day]: body}})
    const dest = join(out.path, 'dest')
    try {
      const run = await runCli([...splitArgs(fake, dest), '--from', day])
      assert.equal(run.code, 1, run.stderr)
      const result = resultOf(run)
      assert.deepEqual(
        result.outcomes.map(o => [o.kubecostCluster, o.status]),
        [
          ['cluster-one', 'written'],
          ['cluster-two', 'failed'],
          ['cluster-three', 'written'],
        ],
      )
      assert.match(run.stderr, /cpuCost = Infinity for allocation "cluster-two\//)
      assert.deepEqual(await listFiles(dest), [keyOf('cluster-one', day), keyOf('cluster-three', day)].sort())
      const {rows} = await readParquet(join(dest, keyOf('cluster-three', day)))
      assert.equal(rows.length, [...dayAllocations(day, {cluster: 'cluster-three', containers: 5})].length)
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('export --split-by-cluster: retries and dry runs', () => {
  it("starts every cluster's file over when an answer is cut off and retried: each row is written once", async () => {
    // The cut-off answer holds one allocation of cluster-one before the connection drops.
    const fake = await start({cluster: 'cluster-one'})
    fake.addFault({kind: 'reset-mid-body', api: 'allocation', times: 1})
    const out = await tempDir()
    try {
      const run = await runCli([...splitArgs(fake, out.path), '--from', '2026-03-02', '--retry-delay', '0.01'])
      assert.equal(run.code, 0, run.stderr)
      assert.equal(fake.requests.filter(r => r.api === 'allocation').length, 2)
      for (const id of MAPPED) {
        const {rows} = await readParquet(join(out.path, keyOf(id, '2026-03-02')))
        const names = rows.map(r => r.name as string)
        assert.equal(new Set(names).size, names.length, id)
        assert.equal(names.length, [...dayAllocations('2026-03-02', fake.dataOptionsOf(id))].length, id)
      }
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it("SIGTERM during a day's download drops every cluster's file of that day, removes the work directory, exits 143", async () => {
    const fake = await start()
    fake.addFault({kind: 'stall-body', api: 'allocation', day: '2026-03-02'})
    const out = await tempDir()
    const work = await tempDir()
    try {
      const running = spawnCli(
        [...splitArgs(fake, out.path), '--from', '2026-03-01', '--allocation-read-timeout', '60'],
        {
          TMPDIR: work.path,
        },
      )
      let stderr = ''
      running.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
      const deadline = Date.now() + 30_000
      while (!fake.requests.some(r => r.api === 'allocation' && (r.params.window ?? '').startsWith('2026-03-02'))) {
        assert.ok(Date.now() < deadline && running.child.exitCode === null, stderr)
        await new Promise(r => setTimeout(r, 25))
      }

      await new Promise(r => setTimeout(r, 300))
      running.child.kill('SIGTERM')
      const result = await running.done
      assert.equal(result.code, 143, result.stderr)
      assert.match(result.stdout, /Received SIGTERM: stopped while collecting 2026-03-02; nothing was published for it/)
      assert.deepEqual(await listFiles(out.path), MAPPED.map(id => keyOf(id, '2026-03-01')).sort())
      assert.deepEqual(await readdir(work.path), [])
    } finally {
      await fake.close()
      await out.remove()
      await work.remove()
    }
  })

  it('prints the per-cluster plan with --dry-run and writes nothing', async () => {
    const fake = await start()
    const out = await tempDir()
    try {
      const run = await runCli([...splitArgs(fake, out.path).filter(a => a !== '--json'), '--dry-run'])
      assert.equal(run.code, 0, run.stderr)
      assert.match(
        run.stdout,
        /^2026-02-27 +two +cluster-two +unavailable +account_id=444455556666\/region=eu-west-1\//m,
      )
      assert.match(run.stdout, /3 clusters, 15 cluster-days: 0 present, 14 to collect, 1 unavailable/)
      assert.deepEqual(await listFiles(out.path), [])
      assert.deepEqual(
        fake.requests.map(r => r.api),
        ['availability'],
      )
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('backfill-plan --split-by-cluster', () => {
  it('shows one row per cluster per day, per-cluster summaries and the unmapped clusters, as a table and as --json', async () => {
    const fake = await start()
    const out = await tempDir()
    try {
      // cluster-one's 2026-03-01 is present already.
      await runCli([...splitArgs(fake, out.path), '--from', '2026-03-01', '--to', '2026-03-01'])
      await rm(join(out.path, keyOf('cluster-three', '2026-03-01')))
      await rm(join(out.path, keyOf('cluster-two', '2026-03-01')))
      const args = [
        'backfill-plan',
        '--split-by-cluster',
        ...mapArgs(),
        '--output-dir',
        out.path,
        '--kubecost-url',
        fake.url,
        '--from',
        '2026-02-27',
        '--to',
        '2026-03-01',
        '--now',
        NOW,
      ]
      const json = await runCli([...args, '--json'])
      assert.equal(json.code, 0, json.stderr)
      const plan = JSON.parse(json.stdout) as {
        splitByCluster: boolean
        days: Array<{date: string; cluster: string; kubecostCluster: string; status: string; key: string}>
        clusters: Array<{kubecostCluster: string; arn: string; cluster: string; available: number; summary: object}>
        unmapped: Array<{kubecostCluster: string; days: string[]}>
        summary: Record<string, number>
      }
      assert.equal(plan.splitByCluster, true)
      assert.deepEqual(
        plan.days.map(d => [d.date, d.kubecostCluster, d.cluster, d.status]),
        [
          ['2026-02-27', 'cluster-one', 'one', 'collect'],
          ['2026-02-27', 'cluster-two', 'two', 'unavailable'],
          ['2026-02-27', 'cluster-three', 'three', 'collect'],
          ['2026-02-28', 'cluster-one', 'one', 'collect'],
          ['2026-02-28', 'cluster-two', 'two', 'collect'],
          ['2026-02-28', 'cluster-three', 'three', 'collect'],
          ['2026-03-01', 'cluster-one', 'one', 'present'],
          ['2026-03-01', 'cluster-two', 'two', 'collect'],
          ['2026-03-01', 'cluster-three', 'three', 'collect'],
        ],
      )
      assert.equal(plan.days[0]?.key, keyOf('cluster-one', '2026-02-27'))
      assert.deepEqual(plan.clusters[1], {
        kubecostCluster: 'cluster-two',
        arn: CLUSTERS['cluster-two'].arn,
        cluster: 'two',
        available: 2,
        summary: {present: 0, collect: 2, recollect: 0, unavailable: 1},
      })
      assert.deepEqual(plan.unmapped, [{kubecostCluster: 'unmapped-x', days: ['2026-03-01']}])
      assert.deepEqual(plan.summary, {present: 1, collect: 7, recollect: 0, unavailable: 1})

      const text = await runCli(args)
      assert.equal(text.code, 0, text.stderr)
      assert.match(text.stdout, /^DATE +CLUSTER +KUBECOST CLUSTER +STATUS +KEY$/m)
      assert.match(text.stdout, /^2026-03-01 +one +cluster-one +present +account_id=111122223333\/region=us-east-1\//m)
      assert.match(text.stdout, /3 clusters, 9 cluster-days: 1 present, 7 to collect, 1 unavailable/)
      assert.match(text.stdout, /Not mapped, not exported: "unmapped-x" \(1 day\)/)
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('a single-cluster run against a federated primary', () => {
  it('warns that every cluster would go into one file and points at --split-by-cluster', async () => {
    const fake = await start()
    const out = await tempDir()
    try {
      const run = await runCli([
        'backfill-plan',
        '--cluster-arn',
        CLUSTERS['cluster-one'].arn,
        '--output-dir',
        out.path,
        '--kubecost-url',
        fake.url,
        '--now',
        NOW,
      ])
      assert.equal(run.code, 0, run.stderr)
      assert.match(
        run.stderr,
        /Kubecost reports 4 clusters \("cluster-one", "cluster-two", "cluster-three", "unmapped-x"\): every one's rows go into this cluster's file\. For a federated Kubecost primary, use --split-by-cluster/,
      )
      assert.doesNotMatch(run.stderr, /Kubecost calls this cluster/)
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('split mode: configuration errors exit 2 naming the flag, the variable and the value', () => {
  const ARN = CLUSTERS['cluster-one'].arn
  const base = ['backfill-plan', '--output-dir', '/nonexistent-kubecost-cid', '--kubecost-url', 'http://127.0.0.1:9']
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      'an entry without =',
      ['--split-by-cluster', '--cluster-map', 'cluster-one'],
      {},
      /Invalid --cluster-map \(CLUSTER_MAP\) "cluster-one": expected <kubecost cluster id>=<EKS cluster ARN>/,
    ],
    [
      'a bad ARN',
      ['--split-by-cluster', '--cluster-map', 'a=arn:aws:eks:us-east-1:1:cluster/x'],
      {},
      /Invalid --cluster-map \(CLUSTER_MAP\) "a=arn:aws:eks:us-east-1:1:cluster\/x": "arn:aws:eks:us-east-1:1:cluster\/x" is not an EKS cluster ARN/,
    ],
    [
      'a bad entry in the environment',
      ['--split-by-cluster'],
      {CLUSTER_MAP: `a=${ARN},b=`},
      /Invalid --cluster-map \(CLUSTER_MAP\) "b="/,
    ],
    ['a quote in the id', ['--split-by-cluster', '--cluster-map', `a"b=${ARN}`], {}, /contains a quote/],
    [
      'one id mapped twice',
      ['--split-by-cluster', '--cluster-map', `a=${ARN}`, '--cluster-map', `a=${CLUSTERS['cluster-two'].arn}`],
      {},
      /Kubecost cluster "a" is mapped twice/,
    ],
    [
      'two ids on one ARN',
      ['--split-by-cluster', '--cluster-map', `a=${ARN},b=${ARN}`],
      {},
      /"a" and "b" are both mapped to .*overwrite each other/,
    ],
    [
      'a map without the mode',
      ['--cluster-map', `a=${ARN}`],
      {},
      /--cluster-map and --cluster-map-file \(CLUSTER_MAP, CLUSTER_MAP_FILE\) need --split-by-cluster/,
    ],
    ['the mode without a map', [], {SPLIT_BY_CLUSTER: 'true'}, /--split-by-cluster needs a cluster map/],
    [
      '--cluster-arn beside the mode',
      ['--split-by-cluster', '--cluster-map', `a=${ARN}`, '--cluster-arn', ARN],
      {},
      /--cluster-arn \(CLUSTER_ID\) .* names the one cluster of a single-cluster export/,
    ],
    [
      'a bad SPLIT_BY_CLUSTER',
      ['--cluster-arn', ARN],
      {SPLIT_BY_CLUSTER: 'maybe'},
      /Invalid --split-by-cluster \(SPLIT_BY_CLUSTER\) "maybe"/,
    ],
    [
      'an unreadable map file',
      ['--split-by-cluster', '--cluster-map-file', '/nonexistent/map.txt'],
      {},
      /Invalid --cluster-map-file \(CLUSTER_MAP_FILE\) "\/nonexistent\/map.txt": cannot be read \(ENOENT\)/,
    ],
  ]
  for (const [what, args, env, expected] of cases) {
    it(`refuses ${what}`, async () => {
      const run = await runCli([...base, ...args], env)
      assert.equal(run.code, 2, run.stderr)
      assert.match(run.stderr, expected)
    })
  }

  it('reads a map file (comments, blank lines) and names the line of a bad entry', async () => {
    const dir = await tempDir()
    const fake = await start()
    try {
      const good = join(dir.path, 'good.map')
      await writeFile(
        good,
        `# federated clusters\n\ncluster-one=${ARN}  # the first\ncluster-two = ${CLUSTERS['cluster-two'].arn}\n`,
      )
      const ok = await runCli(
        [
          'backfill-plan',
          '--output-dir',
          dir.path,
          '--kubecost-url',
          fake.url,
          '--now',
          NOW,
          '--backfill-days',
          '1',
          '--json',
        ],
        {SPLIT_BY_CLUSTER: 'yes', CLUSTER_MAP_FILE: good},
      )
      assert.equal(ok.code, 0, ok.stderr)
      assert.deepEqual(
        (JSON.parse(ok.stdout) as {clusters: Array<{kubecostCluster: string}>}).clusters.map(c => c.kubecostCluster),
        ['cluster-one', 'cluster-two'],
      )
      const bad = join(dir.path, 'bad.map')
      await writeFile(bad, `cluster-one=${ARN}\ncluster-two arn:aws:eks:eu-west-1:444455556666:cluster/two\n`)
      const refused = await runCli([...base, '--split-by-cluster', '--cluster-map-file', bad])
      assert.equal(refused.code, 2, refused.stderr)
      assert.match(
        refused.stderr,
        /Invalid --cluster-map-file \(CLUSTER_MAP_FILE\) ".*": .*bad\.map line 2: expected <kubecost cluster id>=<EKS cluster ARN>/,
      )
    } finally {
      await fake.close()
      await dir.remove()
    }
  })
})
