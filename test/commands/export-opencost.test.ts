import assert from 'node:assert/strict'
import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type Allocation, FAKE_NODES} from '../fakes/kubecost-data.js'
import {FakeOpenCost, openCostAllocations} from '../fakes/opencost-server.js'
import {ROOT, listFiles, runCli, tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
// Today is 2026-03-05: the candidate days are 2026-02-28 … 2026-03-02.
const NOW = '2026-03-05T10:30:00Z'
const OPENCOST_DAYS = ['2026-02-28', '2026-03-02']
const keyOf = (day: string) =>
  `account_id=111122223333/region=us-east-1/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_prod.snappy.parquet`
const nextDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z')
const windowOf = (day: string) => `${day}T00:00:00Z,${nextDay(day)}`
const COLLECTION = {includeIdle: true, idleByNode: true, shareIdle: false}
const FIXTURE = join(ROOT, 'test', 'fixtures', 'opencost', 'opencost-allocation-namespace-includeidle.json')

function exportArgs(fake: FakeOpenCost, out: string, extra: string[] = [], backfillDays = '3'): string[] {
  return [
    'export',
    '--source',
    'opencost',
    '--cluster-arn',
    ARN,
    '--output-dir',
    out,
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    backfillDays,
    '--now',
    NOW,
    '--retries',
    '0',
    ...extra,
  ]
}

const num = (value: unknown) => (typeof value === 'number' ? value : 0)

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`)
}

describe('export --source opencost', () => {
  let fake: FakeOpenCost
  let out: Awaited<ReturnType<typeof tempDir>>
  let first: Awaited<ReturnType<typeof runCli>>

  before(async () => {
    fake = await FakeOpenCost.start({days: OPENCOST_DAYS, containersPerDay: 40})
    out = await tempDir()
    first = await runCli(exportArgs(fake, out.path))
  })
  after(async () => {
    await fake.close()
    await out.remove()
  })

  it('writes one file per day OpenCost has, at the cluster ARN’s key, and exits 0', async () => {
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual(await listFiles(out.path), OPENCOST_DAYS.map(keyOf))
  })

  it('asks OpenCost in its own paths and parameter names: /allocation/compute with includeIdle, idleByNode, shareIdle=false; /assets with the node filter', () => {
    const requests = fake.requests.slice(0, 5)
    assert.deepEqual(requests[0], {
      path: '/allocation/compute',
      api: 'availability',
      params: {
        window: '2026-02-28T00:00:00Z,2026-03-03T00:00:00Z',
        aggregate: 'cluster',
        step: '1d',
        accumulate: 'false',
      },
    })
    OPENCOST_DAYS.forEach((day, i) => {
      assert.deepEqual(requests[1 + 2 * i], {
        path: '/assets',
        api: 'assets',
        params: {window: windowOf(day), filter: 'assetType:"node"'},
      })
      assert.deepEqual(requests[2 + 2 * i], {
        path: '/allocation/compute',
        api: 'allocation',
        params: {
          window: windowOf(day),
          aggregate: 'cluster,node,namespace,controllerKind,controller,pod,container',
          step: '1d',
          accumulate: 'false',
          includeIdle: 'true',
          idleByNode: 'true',
          shareIdle: 'false',
        },
      })
    })
    assert.equal(fake.requests.length, 5)
  })

  it("keeps every allocation, idle by node included, with sums equal to OpenCost's (null numbers as 0)", async () => {
    for (const day of OPENCOST_DAYS) {
      const {rows} = await readParquet(join(out.path, keyOf(day)))
      const allocations = openCostAllocations(day, fake.dataOptions, COLLECTION)
      assert.equal(rows.length, allocations.length)
      assert.equal(rows.filter(r => String(r.name).endsWith('/__idle__')).length, FAKE_NODES.length)
      for (const field of ['totalCost', 'cpuCost', 'loadBalancerCost', 'cpuEfficiency', 'totalEfficiency', 'gpuCost']) {
        const expected = allocations.reduce((sum, a) => sum + num(a[field]), 0)
        assertClose(
          rows.reduce((sum, r) => sum + (r[field] as number), 0),
          expected,
          `${day} ${field}`,
        )
      }
    }
  })

  it('writes NaN-as-null numbers as 0 and ignores gpuAllocation, whether null or an object', async () => {
    const day = '2026-03-02'
    const byName = new Map((await readParquet(join(out.path, keyOf(day)))).rows.map(r => [r.name as string, r]))
    const allocations = openCostAllocations(day, fake.dataOptions, COLLECTION)
    const nulled = allocations.find(a => a.totalEfficiency === null) as Allocation
    const noLb = allocations.find(a => a.loadBalancerCost === null) as Allocation
    assert.ok(nulled && noLb, 'the data has null numbers')
    assert.equal(byName.get(nulled.name)?.totalEfficiency, 0)
    assert.equal(byName.get(nulled.name)?.cpuEfficiency, 0)
    assert.equal(byName.get(noLb.name)?.loadBalancerCost, 0)
    assert.equal(byName.get(nulled.name)?.totalCost, nulled.totalCost)
    const withGpu = allocations.find(a => a.gpuAllocation !== null) as Allocation
    const withoutGpu = allocations.find(a => a.gpuAllocation === null && !a.name.includes('__')) as Allocation
    for (const a of [withGpu, withoutGpu]) {
      const row = byName.get(a.name) as Record<string, unknown>
      assert.equal(row.totalCost, a.totalCost)
      assert.equal(row['properties.pod'], a.properties.pod)
    }
  })

  it('joins node fields from OpenCost’s assets, whose labels carry no label_ prefix', async () => {
    const {rows} = await readParquet(join(out.path, keyOf('2026-02-28')))
    // This node's labels are not in its allocations: every node field comes from /assets.
    const node = FAKE_NODES[1]
    const row = rows.find(r => r['properties.node'] === node?.name && !String(r.name).includes('__')) as Record<
      string,
      unknown
    >
    assert.ok(row, 'a row on the node')
    assert.equal(row['properties.node_instance_type'], 'c6g.xlarge')
    assert.equal(row['properties.node_availability_zone'], 'us-east-1b')
    assert.equal(row['properties.node_capacity_type'], 'spot')
    assert.equal(row['properties.node_architecture'], 'arm64')
    assert.equal(row['properties.node_nodegroup'], 'default')
    assert.equal(row['properties.node_nodegroup_image'], 'ami-0def4560000000002')
    assert.equal(row['properties.provider'], 'AWS')
    assert.equal(row['properties.clusterid'], ARN)
    assert.equal(row['properties.cluster'], 'default-cluster')
  })

  it('writes nothing the second time, configured by COST_SOURCE and KUBECOST_API_ENDPOINT alone', async () => {
    const before = await Promise.all(OPENCOST_DAYS.map(async d => (await stat(join(out.path, keyOf(d)))).mtimeMs))
    const seen = fake.requests.length
    const again = await runCli(
      ['export', '--cluster-arn', ARN, '--output-dir', out.path, '--backfill-days', '3', '--now', NOW],
      {COST_SOURCE: 'opencost', KUBECOST_API_ENDPOINT: fake.url},
    )
    assert.equal(again.code, 0, again.stderr)
    const requests = fake.requests.slice(seen)
    assert.deepEqual(
      requests.map(r => [r.path, r.api]),
      [['/allocation/compute', 'availability']],
    )
    const after = await Promise.all(OPENCOST_DAYS.map(async d => (await stat(join(out.path, keyOf(d)))).mtimeMs))
    assert.deepEqual(after, before)
  })
})

describe('export --source opencost: the recorded OpenCost response', () => {
  it('exports every allocation of the fixture, negative idle included, with its exact values', async () => {
    // The fixture's set is 2024-09-30T12:00Z to 2024-10-01T12:00Z (it was asked for a window of its
    // own); shifted 12 hours earlier it is what OpenCost answers for the UTC day 2024-09-30 (today-3).
    const text = (await readFile(FIXTURE, 'utf8'))
      .replaceAll('2024-09-30T12:00:00Z', '2024-09-30T00:00:00Z')
      .replaceAll('2024-10-01T12:00:00Z', '2024-10-01T00:00:00Z')
      .replaceAll('2024-10-01T11:40:00Z', '2024-09-30T23:40:00Z')
    const fixture = JSON.parse(text) as {data: Array<Record<string, Allocation>>}
    const allocations = Object.values(fixture.data[0] ?? {})
    const day = '2024-09-30'
    const fake = await FakeOpenCost.start({days: [day], allocationBodies: {[day]: text}})
    const out = await tempDir()
    try {
      const result = await runCli([
        'export',
        '--source',
        'opencost',
        '--cluster-arn',
        ARN,
        '--output-dir',
        out.path,
        '--kubecost-url',
        fake.url,
        '--aggregation',
        'namespace',
        '--backfill-days',
        '1',
        '--now',
        '2024-10-03T06:00:00Z',
      ])
      assert.equal(result.code, 0, result.stderr)
      const {rows} = await readParquet(join(out.path, keyOf(day)))
      assert.deepEqual(rows.map(r => r.name).sort(), allocations.map(a => a.name).sort())
      for (const a of allocations) {
        const row = rows.find(r => r.name === a.name) as Record<string, unknown>
        for (const field of ['totalCost', 'cpuCost', 'ramCost', 'ramEfficiency', 'minutes', 'ramByteHours'])
          assert.equal(row[field], num(a[field]), `${a.name} ${field}`)
        assert.equal(row['properties.namespace'], a.properties.namespace ?? '')
        assert.equal((row['window.start'] as Date).toISOString(), '2024-09-30T00:00:00.000Z')
      }

      assert.ok(
        allocations.some(a => num(a.totalCost) < 0),
        'the fixture has a negative idle row',
      )
      assertClose(
        rows.reduce((sum, r) => sum + (r.totalCost as number), 0),
        allocations.reduce((sum, a) => sum + num(a.totalCost), 0),
        'totalCost',
      )
      assert.equal(fake.requests.find(r => r.api === 'allocation')?.params.aggregate, 'cluster,namespace')
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('export --source opencost: an answer for another window than the day', () => {
  it('fails the day when the recorded response, a set from noon to noon, answers the UTC day', async () => {
    const day = '2024-09-30'
    const fake = await FakeOpenCost.start({days: [day], allocationBodies: {[day]: await readFile(FIXTURE, 'utf8')}})
    const out = await tempDir()
    try {
      const result = await runCli([
        'export',
        '--source',
        'opencost',
        '--cluster-arn',
        ARN,
        '--output-dir',
        out.path,
        '--kubecost-url',
        fake.url,
        '--aggregation',
        'namespace',
        '--backfill-days',
        '1',
        '--now',
        '2024-10-03T06:00:00Z',
      ])
      assert.equal(result.code, 1, result.stderr)
      assert.match(
        result.stderr,
        /Failed to export 2024-09-30: OpenCost returned allocation "[^"]+" with the window 2024-09-30T12:00:00Z to 2024-10-01T12:00:00Z, not within the day asked for, 2024-09-30 /,
      )
      assert.deepEqual(await listFiles(out.path), [])
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('export --source opencost: error answers', () => {
  it('reports each failing day with the status and OpenCost’s message, and still writes the others', async () => {
    const days = ['2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']
    const fake = await FakeOpenCost.start({days, containersPerDay: 8})
    fake
      .addFault({kind: 'text-400', api: 'allocation', day: '2026-02-26', message: 'illegal window: bogus'})
      .addFault({
        kind: 'error-500',
        api: 'allocation',
        day: '2026-02-27',
        message: 'error querying Prometheus: bad_data: 1:1: parse error',
      })
      .addFault({kind: 'error-envelope', api: 'assets', day: '2026-02-28', message: 'failed to compute assets'})
      .addFault({kind: 'text-500', api: 'assets', day: '2026-03-01', message: 'prometheus unreachable'})
    const out = await tempDir()
    try {
      const result = await runCli(exportArgs(fake, out.path, ['--json'], '5'))
      assert.equal(result.code, 1, result.stderr)
      const body = (
        JSON.parse(result.stdout) as {
          result: {outcomes: Array<{date: string; status: string; error?: string; code?: string}>}
        }
      ).result
      const byDay = new Map(body.outcomes.map(o => [o.date, o]))
      assert.equal(byDay.get('2026-03-02')?.status, 'written')
      assert.deepEqual(await listFiles(out.path), [keyOf('2026-03-02')])

      const text400 = byDay.get('2026-02-26')
      assert.equal(text400?.status, 'failed')
      assert.match(
        text400?.error ?? '',
        /^OpenCost Allocation API returned HTTP 400 Bad Request for GET http:\/\/127\.0\.0\.1:\d+\/allocation\/compute\?.*: Invalid 'window' parameter: illegal window: bogus$/,
      )

      const json500 = byDay.get('2026-02-27')
      assert.equal(json500?.status, 'failed')
      // The envelope's message, not its JSON.
      assert.match(
        json500?.error ?? '',
        /OpenCost Allocation API returned HTTP 500 Internal Server Error for GET .*: Error: error querying Prometheus: bad_data: 1:1: parse error$/,
      )
      assert.doesNotMatch(json500?.error ?? '', /"code"/)

      const envelope = byDay.get('2026-02-28')
      assert.match(
        envelope?.error ?? '',
        /^OpenCost Assets API answered GET http:\/\/127\.0\.0\.1:\d+\/assets\?.* with error code 500: failed to compute assets$/,
      )
      assert.match(
        byDay.get('2026-03-01')?.error ?? '',
        /OpenCost Assets API returned HTTP 500 .*: Error getting assets: prometheus unreachable$/,
      )
      assert.match(result.stderr, /opencost pod's logs/)
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it('fails a day that the availability call reported but whose collection came back as empty sets', async () => {
    const fake = await FakeOpenCost.start({days: OPENCOST_DAYS, containersPerDay: 8})
    fake.addFault({kind: 'empty-sets', api: 'allocation', day: '2026-02-28'})
    const out = await tempDir()
    try {
      const result = await runCli([...exportArgs(fake, out.path), '--json'])
      assert.equal(result.code, 1, result.stderr)
      const {outcomes} = (
        JSON.parse(result.stdout) as {result: {outcomes: Array<{date: string; status: string; error?: string}>}}
      ).result
      const empty = outcomes.find(o => o.date === '2026-02-28')
      assert.equal(empty?.status, 'failed')
      assert.match(empty?.error ?? '', /^OpenCost reported data for .* returned no allocations/)
      assert.deepEqual(await listFiles(out.path), [keyOf('2026-03-02')])
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it('exits 0 with nothing to do when every step set is empty', async () => {
    const fake = await FakeOpenCost.start({days: OPENCOST_DAYS})
    fake.addFault({kind: 'empty-sets', api: 'availability'})
    const out = await tempDir()
    try {
      const result = await runCli(exportArgs(fake, out.path))
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /OpenCost has no data yet for any candidate day/)
      assert.deepEqual(await listFiles(out.path), [])
      assert.equal(fake.requests.length, 1)
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it('refuses an unknown source with exit 2, naming the flag, its env var and the value', async () => {
    const result = await runCli(['export', '--cluster-arn', ARN, '--output-dir', '/nonexistent'], {
      COST_SOURCE: 'prometheus',
    })
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /Invalid --source \(COST_SOURCE\) "prometheus": must be one of: kubecost, opencost/)
  })
})

describe('backfill-plan --source opencost', () => {
  it('plans from OpenCost’s availability and the destination, read-only', async () => {
    const fake = await FakeOpenCost.start({days: OPENCOST_DAYS, containersPerDay: 8})
    const out = await tempDir()
    try {
      const exported = await runCli(exportArgs(fake, out.path, ['--from', '2026-03-02', '--to', '2026-03-02']))
      assert.equal(exported.code, 0, exported.stderr)
      const seen = fake.requests.length
      const result = await runCli([
        'backfill-plan',
        '--source',
        'opencost',
        '--cluster-arn',
        ARN,
        '--output-dir',
        out.path,
        '--kubecost-url',
        fake.url,
        '--backfill-days',
        '3',
        '--now',
        NOW,
        '--json',
      ])
      assert.equal(result.code, 0, result.stderr)
      const plan = JSON.parse(result.stdout) as {days: Array<{date: string; status: string}>; available: number}
      assert.deepEqual(
        plan.days.map(d => [d.date, d.status]),
        [
          ['2026-02-28', 'collect'],
          ['2026-03-01', 'unavailable'],
          ['2026-03-02', 'present'],
        ],
      )
      assert.equal(plan.available, 2)
      assert.deepEqual(fake.requests.slice(seen), [
        {
          path: '/allocation/compute',
          api: 'availability',
          params: {
            window: '2026-02-28T00:00:00Z,2026-03-03T00:00:00Z',
            aggregate: 'cluster',
            step: '1d',
            accumulate: 'false',
          },
        },
      ])
      assert.deepEqual(await listFiles(out.path), [keyOf('2026-03-02')])
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it('shows in --help that the URL’s default depends on --source', async () => {
    const result = await runCli(['backfill-plan', '--help'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /--source=<value>/)
    assert.match(result.stdout, /http:\/\/opencost\.opencost:9003/)
    assert.match(result.stdout, /COST_SOURCE/)
  })
})

describe('export --source opencost --split-by-cluster', () => {
  it("maps OpenCost's cluster id to an EKS cluster ARN and writes its files at that ARN's key", async () => {
    const fake = await FakeOpenCost.start({days: OPENCOST_DAYS, containersPerDay: 10})
    const out = await tempDir()
    try {
      const args = exportArgs(fake, out.path).filter((arg, i, all) => arg !== ARN && all[i + 1] !== ARN)
      const staging = 'arn:aws:eks:eu-west-1:444455556666:cluster/staging'
      const result = await runCli([...args, '--split-by-cluster', '--cluster-map', `default-cluster=${staging}`])
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(
        await listFiles(out.path),
        OPENCOST_DAYS.map(
          day =>
            `account_id=444455556666/region=eu-west-1/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_staging.snappy.parquet`,
        ),
      )
      const collections = fake.requests.filter(
        r => r.path === '/allocation/compute' && r.params.aggregate !== 'cluster',
      )
      assert.ok(collections.length > 0)
      for (const r of collections) assert.equal(r.params.filter, 'cluster:"default-cluster"')
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})
