/**
 * Split mode's data integrity over real HTTP: clusters whose files share a name, maps whose filter
 * does not fit in one request line, Kubecost-supplied ids with control characters.
 */
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {GetObjectCommand, ListObjectsV2Command} from '@aws-sdk/client-s3'

import {dayAllocations} from '../fakes/kubecost-data.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {type S3Fake, startS3} from '../fakes/s3.js'
import {listFiles, refusedUrl, runCli, tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const NOW = '2026-03-05T10:30:00Z'
const DAY = '2026-03-02'
const BUCKET = 'kubecost-data-111122223333'
const keyOf = (account: string, name: string, region = 'us-east-1', day = DAY) =>
  `account_id=${account}/region=${region}/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_${name}.snappy.parquet`

interface Outcome {
  date: string
  cluster: string
  kubecostCluster: string
  status: string
  code?: string
  error?: string
  rows?: number
}

const outcomesOf = (stdout: string) => (JSON.parse(stdout) as {outcomes: Outcome[]}).outcomes
/** A run that failed in part prints its result beside the error. */
const failedOutcomesOf = (stdout: string) => {
  const body = JSON.parse(stdout) as {error: {code: string}; result: {outcomes: Outcome[]}}
  assert.equal(body.error.code, 'PARTIAL_FAILURE')
  return body.result.outcomes
}

let scratch: {path: string; remove(): Promise<void>}
before(async () => {
  scratch = await tempDir('kubecost-cid-split-integrity-')
})
after(async () => {
  await scratch.remove()
})

/**
 * "east" and "west" are two EKS clusters named prod in two accounts; 48 more mapped clusters that
 * Kubecost has no data for make the map 50 long. Each of the two has more rows than one row group
 * of a 50-cluster map held when every cluster had a writer of its own (50,000 / 50).
 */
const EAST = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const WEST = 'arn:aws:eks:us-east-1:444455556666:cluster/prod'
const CONTAINERS = 1100

async function sameNameMap(): Promise<string> {
  const lines = [`east=${EAST}`, `west=${WEST}`]
  for (let i = 0; i < 48; i++) lines.push(`idle-${i}=arn:aws:eks:us-east-1:111122223333:cluster/idle-${i}`)
  const file = join(scratch.path, 'same-name.map')
  await writeFile(file, `${lines.join('\n')}\n`)
  return file
}

async function expectClusterFile(path: string, cluster: string, arn: string): Promise<void> {
  const {rows} = await readParquet(path)
  const allocations = [...dayAllocations(DAY, {cluster, containers: CONTAINERS})]
  assert.ok(allocations.length > 1000)
  assert.deepEqual(rows.map(r => r.name).sort(), allocations.map(a => a.name).sort(), cluster)
  for (const row of rows) assert.equal(row['properties.clusterid'], arn)
}

describe('export --split-by-cluster: two clusters with one name in two accounts', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({
      days: [],
      clusters: {east: [DAY], west: [DAY]},
      containersPerDay: CONTAINERS,
    })
  })
  after(async () => fake.close())

  const args = async (destination: string[]) => [
    'export',
    '--split-by-cluster',
    '--cluster-map-file',
    await sameNameMap(),
    ...destination,
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

  it('writes each cluster its own whole, readable file in a local directory', async () => {
    const out = await tempDir()
    try {
      const run = await runCli(await args(['--output-dir', out.path]))
      assert.equal(run.code, 0, run.stderr)
      assert.deepEqual(await listFiles(out.path), [keyOf('111122223333', 'prod'), keyOf('444455556666', 'prod')])
      await expectClusterFile(join(out.path, keyOf('111122223333', 'prod')), 'east', EAST)
      await expectClusterFile(join(out.path, keyOf('444455556666', 'prod')), 'west', WEST)
      const written = outcomesOf(run.stdout).filter(o => o.status === 'written')
      assert.deepEqual(
        written.map(o => [o.kubecostCluster, o.rows]),
        [
          ['east', [...dayAllocations(DAY, {cluster: 'east', containers: CONTAINERS})].length],
          ['west', [...dayAllocations(DAY, {cluster: 'west', containers: CONTAINERS})].length],
        ],
      )
    } finally {
      await out.remove()
    }
  })

  it('uploads each cluster its own whole, readable object to S3', async () => {
    const s3: S3Fake = await startS3([BUCKET])
    const local = await tempDir()
    try {
      const run = await runCli(await args(['--bucket', BUCKET, '--s3-endpoint', s3.endpoint]), s3.env)
      assert.equal(run.code, 0, run.stderr)
      const listed = await s3.client.send(new ListObjectsV2Command({Bucket: BUCKET}))
      const keys = (listed.Contents ?? []).map(o => o.Key as string).sort()
      assert.deepEqual(keys, [keyOf('111122223333', 'prod'), keyOf('444455556666', 'prod')])
      for (const [key, cluster, arn] of [
        [keyOf('111122223333', 'prod'), 'east', EAST],
        [keyOf('444455556666', 'prod'), 'west', WEST],
      ] as const) {
        const object = await s3.client.send(new GetObjectCommand({Bucket: BUCKET, Key: key}))
        const file = join(local.path, `${cluster}.parquet`)
        await writeFile(
          file,
          await (object.Body as {transformToByteArray(): Promise<Uint8Array>}).transformToByteArray(),
        )
        await expectClusterFile(file, cluster, arn)
      }
    } finally {
      await local.remove()
      await s3.close()
    }
  })
})

describe('export --split-by-cluster: map entries whose files would share a key', () => {
  it('refuses ARNs that differ only in their partition at start-up, exit 2, naming both entries', async () => {
    const china = 'arn:aws-cn:eks:us-east-1:111122223333:cluster/prod'
    const run = await runCli([
      'export',
      '--split-by-cluster',
      '--cluster-map',
      `east=${EAST}`,
      '--cluster-map',
      `east-cn=${china}`,
      '--output-dir',
      join(scratch.path, 'never'),
      '--kubecost-url',
      await refusedUrl(),
    ])
    assert.equal(run.code, 2, run.stderr)
    assert.match(
      run.stderr,
      new RegExp(
        `The cluster map entries east=${EAST} and east-cn=${china} differ only in their partition \\(aws, aws-cn\\)`.replaceAll(
          '/',
          '\\/',
        ),
      ),
    )
    assert.match(run.stderr, /Try: Map each Kubecost cluster id to the ARN of its own EKS cluster \(--cluster-map/)
    assert.deepEqual(await listFiles(join(scratch.path, 'never')), [])
  })
})

/** 300 clusters with ids of 28 characters: one filter naming them all is about 9 KB of request line. */
const MANY = Array.from({length: 300}, (_, i) => `federated-cluster-${String(i).padStart(10, '0')}`)
const arnOfMany = (i: number) => `arn:aws:eks:us-east-1:111122223333:cluster/member-${i}`

async function manyMap(): Promise<string> {
  const file = join(scratch.path, 'many.map')
  await writeFile(file, MANY.map((id, i) => `${id}=${arnOfMany(i)}\n`).join(''))
  return file
}

/** The clusters each allocation request of the day named in its filter. */
function filters(fake: FakeKubecost): string[][] {
  return fake.requests
    .filter(r => r.api === 'allocation')
    .map(r => JSON.parse(`[${(r.params.filter ?? '').replace(/^cluster:/, '')}]`) as string[])
}

describe('export --split-by-cluster: an id too long for a request of its own', () => {
  it('is refused at start-up, exit 2, naming the flag, the variable and the id', async () => {
    const id = `cluster-${'x'.repeat(4000)}`
    const run = await runCli([
      'export',
      '--split-by-cluster',
      '--cluster-map',
      `${id}=${EAST}`,
      '--output-dir',
      join(scratch.path, 'never'),
      '--kubecost-url',
      await refusedUrl(),
    ])
    assert.equal(run.code, 2, run.stderr)
    assert.match(
      run.stderr,
      /Invalid --cluster-map \(CLUSTER_MAP\) "cluster-x{92}… \(4,008 characters\)": with this Kubecost cluster id alone, an allocation request's URL is [\d,]+ characters, more than the 4,096 a request may take/,
    )
    assert.ok(run.stderr.length < 2000, run.stderr)
  })
})

describe('export --split-by-cluster: a map too long for one request line', () => {
  const args = async (fake: FakeKubecost, out: string, extra: string[] = []) => [
    'export',
    '--split-by-cluster',
    '--cluster-map-file',
    await manyMap(),
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
    ...extra,
  ]

  it('spreads the cluster filter over requests of at most 4 KiB, each cluster in one, behind an 8 KiB proxy', async () => {
    const fake = await FakeKubecost.start({
      days: [],
      clusters: Object.fromEntries(MANY.map(id => [id, [DAY]])),
      containersPerDay: 2,
      maxRequestLine: 8192,
    })
    const out = await tempDir()
    try {
      const run = await runCli(await args(fake, out.path))
      assert.equal(run.code, 0, run.stderr.slice(0, 3000))
      assert.equal((await listFiles(out.path)).length, MANY.length)
      assert.ok(Math.max(...fake.requestLines) <= 4096, `longest request line ${Math.max(...fake.requestLines)}`)
      const named = filters(fake)
      assert.ok(named.length >= 3, `${named.length} allocation requests`)
      assert.deepEqual(named.flat().sort(), [...MANY].sort())
      assert.equal(fake.requests.filter(r => r.api === 'assets').length, 1)
      // Each file holds its own cluster's rows.
      const {rows} = await readParquet(join(out.path, keyOf('111122223333', 'member-299')))
      assert.ok(rows.length > 0 && rows.every(r => r['properties.cluster'] === MANY[299]))
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it('writes each cluster once from its own request when the server ignores the filter, counting unmapped rows once', async () => {
    const fake = await FakeKubecost.start({
      days: [],
      clusters: {...Object.fromEntries(MANY.map(id => [id, [DAY]])), stray: [DAY]},
      containersPerDay: 2,
      ignoreClusterFilter: true,
    })
    const out = await tempDir()
    try {
      const run = await runCli(await args(fake, out.path))
      assert.equal(run.code, 0, run.stderr.slice(0, 3000))
      assert.ok(filters(fake).length >= 3)
      const rowsOf = (id: string) => [...dayAllocations(DAY, fake.dataOptionsOf(id))].length
      const result = JSON.parse(run.stdout) as {
        outcomes: Outcome[]
        unmappedRows: Array<{kubecostCluster: string; rows: number}>
      }
      assert.deepEqual(
        result.unmappedRows.map(u => [u.kubecostCluster, u.rows]),
        [['stray', rowsOf('stray')]],
      )
      assert.equal(result.outcomes.filter(o => o.status === 'written').length, MANY.length)
      for (const o of result.outcomes) assert.equal(o.rows, rowsOf(o.kubecostCluster), o.kubecostCluster)
      const {rows} = await readParquet(join(out.path, keyOf('111122223333', 'member-150')))
      assert.ok(rows.every(r => r['properties.cluster'] === MANY[150]))
    } finally {
      await fake.close()
      await out.remove()
    }
  })

  it('fails only the clusters of a request that failed, and never repeats the whole URL in a message', async () => {
    const fake = await FakeKubecost.start({
      days: [],
      clusters: Object.fromEntries(MANY.map(id => [id, [DAY]])),
      containersPerDay: 2,
    })
    fake.addFault({kind: 'status-503', api: 'allocation', times: 1})
    const out = await tempDir()
    try {
      const run = await runCli(await args(fake, out.path, ['--retries', '0']))
      assert.equal(run.code, 1, run.stderr.slice(0, 3000))
      const [first = [], ...rest] = filters(fake)
      const outcomes = failedOutcomesOf(run.stdout)
      const failed = outcomes.filter(o => o.status === 'failed')
      assert.deepEqual(failed.map(o => o.kubecostCluster).sort(), [...first].sort())
      assert.deepEqual(
        outcomes
          .filter(o => o.status === 'written')
          .map(o => o.kubecostCluster)
          .sort(),
        rest.flat().sort(),
      )
      assert.ok(first.length > 0 && rest.length > 0)
      for (const o of failed) {
        assert.equal(o.code, 'KUBECOST_HTTP_STATUS')
        assert.match(
          o.error ?? '',
          /returned HTTP 503 .* for GET http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?.*… \([\d,]+ characters\)/,
        )
        assert.ok((o.error ?? '').length < 600, o.error)
      }

      for (const line of run.stderr.split('\n')) assert.ok(line.length < 1500, line.slice(0, 300))
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})
