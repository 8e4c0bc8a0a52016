import assert from 'node:assert/strict'
import {stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type Allocation, FAKE_NODES, dayAllocations, sanitize} from '../fakes/kubecost-data.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {listFiles, refusedUrl, runCli, spawnCli, tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const REPORT_PACKAGES = new URL('../fixtures/report-packages.mjs', import.meta.url).pathname
// "Today" is 2026-03-05, so the 5 candidate days are 2026-02-26 … 2026-03-02 (across a month boundary).
const NOW = '2026-03-05T10:30:00Z'
const CANDIDATES = ['2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']
const KUBECOST_DAYS = ['2026-02-26', '2026-02-28', '2026-03-01', '2026-03-02', '2026-03-03']
const LABELS = 'app, app.kubernetes.io/name, team'
const ANNOTATIONS = 'prometheus.io/scrape, owner'
const keyOf = (day: string, cluster = 'prod') =>
  `account_id=111122223333/region=us-east-1/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_${cluster}.snappy.parquet`

const NUMERIC = [
  'minutes',
  'cpuCores',
  'cpuCoreRequestAverage',
  'cpuCoreUsageAverage',
  'cpuCoreHours',
  'cpuCost',
  'cpuCostAdjustment',
  'cpuEfficiency',
  'gpuCount',
  'gpuHours',
  'gpuCost',
  'gpuCostAdjustment',
  'networkTransferBytes',
  'networkReceiveBytes',
  'networkCost',
  'networkCrossZoneCost',
  'networkCrossRegionCost',
  'networkInternetCost',
  'networkCostAdjustment',
  'loadBalancerCost',
  'loadBalancerCostAdjustment',
  'pvBytes',
  'pvByteHours',
  'pvCost',
  'pvCostAdjustment',
  'ramBytes',
  'ramByteRequestAverage',
  'ramByteUsageAverage',
  'ramByteHours',
  'ramCost',
  'ramCostAdjustment',
  'ramEfficiency',
  'sharedCost',
  'externalCost',
  'totalCost',
  'totalEfficiency',
]
const STRINGS = [
  'provider',
  'region',
  'cluster',
  'clusterid',
  'eksClusterName',
  'container',
  'namespace',
  'pod',
  'node',
  'node_instance_type',
  'node_availability_zone',
  'node_capacity_type',
  'node_architecture',
  'node_os',
  'node_nodegroup',
  'node_nodegroup_image',
  'controller',
  'controllerKind',
  'providerID',
].map(f => `properties.${f}`)

function exportArgs(fake: FakeKubecost, out: string, extra: string[] = []): string[] {
  return [
    'export',
    '--cluster-arn',
    ARN,
    '--output-dir',
    out,
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    '5',
    '--now',
    NOW,
    '--labels',
    LABELS,
    '--annotations',
    ANNOTATIONS,
    ...extra,
  ]
}

function expectedSums(day: string, fake: FakeKubecost): Record<string, number> {
  const sums = Object.fromEntries(NUMERIC.map(f => [f, 0]))
  for (const a of dayAllocations(day, fake.dataOptions)) {
    for (const f of NUMERIC) {
      const v = a[f]
      sums[f] = (sums[f] as number) + (typeof v === 'number' ? v : 0)
    }
  }

  return sums
}

describe('export to a local directory', () => {
  let fake: FakeKubecost
  let out: Awaited<ReturnType<typeof tempDir>>
  let first: Awaited<ReturnType<typeof runCli>>

  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 60})
    out = await tempDir()
    first = await runCli(exportArgs(fake, out.path))
  })
  after(async () => {
    await fake.close()
    await out.remove()
  })

  it('writes one file per available missing day in the Hive layout, and exits 0', async () => {
    assert.equal(first.code, 0, first.stderr)
    const available = CANDIDATES.filter(d => KUBECOST_DAYS.includes(d))
    assert.deepEqual(
      await listFiles(out.path),
      available.map(d => keyOf(d)),
    )
  })

  it('sends exactly the availability, assets and allocation requests of the spec, oldest day first', () => {
    const requests = fake.requests.slice(0, 1 + 2 * 4)
    assert.deepEqual(requests[0], {
      path: '/model/allocation',
      api: 'availability',
      params: {
        window: '2026-02-26T00:00:00Z,2026-03-03T00:00:00Z',
        aggregate: 'cluster',
        step: '1d',
        accumulate: 'false',
      },
    })
    const days = ['2026-02-26', '2026-02-28', '2026-03-01', '2026-03-02']
    days.forEach((day, i) => {
      const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z')
      const window = `${day}T00:00:00Z,${next}`
      assert.deepEqual(requests[1 + 2 * i], {
        path: '/model/assets',
        api: 'assets',
        params: {window, accumulate: 'true', filterTypes: 'Node'},
      })
      assert.deepEqual(requests[2 + 2 * i], {
        path: '/model/allocation',
        api: 'allocation',
        params: {
          window,
          aggregate: 'cluster,node,namespace,controllerKind,controller,pod,container',
          step: '1d',
          accumulate: 'false',
          idle: 'true',
          splitIdle: 'true',
          idleByNode: 'true',
          shareTenancyCosts: 'true',
        },
      })
    })
    assert.equal(fake.requests.length, 9)
  })

  it('writes the contract columns in order with their Parquet types, Snappy and dictionary-encoded', async () => {
    const facts = await readParquet(join(out.path, keyOf('2026-03-01')))
    const labelColumns = ['app', 'app.kubernetes.io/name', 'team'].map(k => `properties.labels.${k}`)
    const annotationColumns = ['prometheus.io/scrape', 'owner'].map(k => `properties.annotations.${k}`)
    assert.deepEqual(
      facts.schema.map(c => c.name),
      ['name', 'window.start', 'window.end', ...NUMERIC, ...STRINGS, ...labelColumns, ...annotationColumns],
    )
    for (const column of facts.schema) {
      if (column.name.startsWith('window.')) {
        assert.equal(column.type, 'INT64', column.name)
        assert.equal(column.converted_type, 'TIMESTAMP_MILLIS', column.name)
        assert.match(String(column.logical_type), /MILLIS=MilliSeconds/, column.name)
      } else if (NUMERIC.includes(column.name)) {
        assert.equal(column.type, 'DOUBLE', column.name)
      } else {
        assert.equal(column.type, 'BYTE_ARRAY', column.name)
        assert.equal(column.converted_type, 'UTF8', column.name)
      }
    }

    assert.deepEqual(facts.compressions, ['SNAPPY'])
    assert.ok(
      facts.encodings.some(e => e.includes('DICTIONARY')),
      facts.encodings.join(),
    )
  })

  it("keeps every allocation, idle and unmounted rows included, with per-day sums equal to Kubecost's", async () => {
    for (const day of ['2026-02-26', '2026-03-02']) {
      const {rows} = await readParquet(join(out.path, keyOf(day)))
      const allocations = [...dayAllocations(day, fake.dataOptions)]
      assert.equal(rows.length, allocations.length)
      assert.ok(rows.some(r => String(r.name).endsWith('/__idle__')))
      assert.ok(rows.some(r => String(r.name).includes('__unmounted__')))
      const expected = expectedSums(day, fake)
      for (const field of NUMERIC) {
        const actual = rows.reduce((sum, r) => sum + (r[field] as number), 0)
        assert.ok(
          Math.abs(actual - (expected[field] as number)) <= 1e-9 * Math.max(1, Math.abs(expected[field] as number)),
          `${day} ${field}: ${actual} != ${expected[field]}`,
        )
      }
    }
  })

  it('writes values unchanged, absent and null numbers as 0, absent strings as empty', async () => {
    const day = '2026-03-01'
    const {rows} = await readParquet(join(out.path, keyOf(day)))
    const byName = new Map(rows.map(r => [r.name as string, r]))
    const allocations = [...dayAllocations(day, fake.dataOptions)]
    const withNull = allocations.find(a => a.ramEfficiency === null) as Allocation
    const withoutGpuCost = allocations.find(a => !('gpuCost' in a)) as Allocation
    assert.equal(byName.get(withNull.name)?.ramEfficiency, 0)
    assert.equal(byName.get(withoutGpuCost.name)?.gpuCost, 0)
    const sample = allocations[7] as Allocation
    const row = byName.get(sample.name) as Record<string, unknown>
    for (const field of NUMERIC) assert.equal(row[field], typeof sample[field] === 'number' ? sample[field] : 0, field)
    assert.equal((row['window.start'] as Date).toISOString(), `${day}T00:00:00.000Z`)
    assert.equal((row['window.end'] as Date).toISOString(), '2026-03-02T00:00:00.000Z')
    const unmounted = [...byName.values()].find(r => String(r.name).includes('__unmounted__')) as Record<
      string,
      unknown
    >
    assert.equal(unmounted['properties.controller'], '')
    assert.equal(unmounted['properties.providerID'], '')
    assert.equal(unmounted.cpuCost, 0)
  })

  it('puts labels and annotations under their original keys', async () => {
    const day = '2026-03-01'
    const {rows} = await readParquet(join(out.path, keyOf(day)))
    const byName = new Map(rows.map(r => [r.name as string, r]))
    for (const a of [...dayAllocations(day, fake.dataOptions)].slice(0, 12)) {
      const labels = a.properties.labels as Record<string, string>
      const annotations = a.properties.annotations as Record<string, string>
      const row = byName.get(a.name) as Record<string, unknown>
      assert.equal(row['properties.labels.app'], labels.app)
      assert.equal(row['properties.labels.app.kubernetes.io/name'], labels[sanitize('app.kubernetes.io/name')])
      assert.equal(row['properties.labels.team'], labels.team ?? '')
      assert.equal(row['properties.annotations.prometheus.io/scrape'], 'true')
      assert.equal(row['properties.annotations.owner'], annotations.owner ?? '')
    }
  })

  it('coalesces node fields from allocation labels, then the Assets API node, never concatenating', async () => {
    const {rows} = await readParquet(join(out.path, keyOf('2026-03-01')))
    const containerRow = (node: string) =>
      rows.find(r => r['properties.node'] === node && !String(r.name).endsWith('__idle__')) as Record<string, unknown>
    const pick = (row: Record<string, unknown>) =>
      Object.fromEntries(
        [
          'region',
          'node_instance_type',
          'node_availability_zone',
          'node_capacity_type',
          'node_architecture',
          'node_os',
          'node_nodegroup',
          'node_nodegroup_image',
          'provider',
          'providerID',
          'clusterid',
          'eksClusterName',
          'cluster',
        ].map(f => [f, row[`properties.${f}`]]),
      )
    const [eks, karpenter, legacy, both] = FAKE_NODES.map(n => pick(containerRow(n.name)))
    const common = {
      region: 'us-east-1',
      provider: 'AWS',
      clusterid: ARN,
      eksClusterName: 'prod',
      cluster: 'prod',
      node_os: 'linux',
    }
    // From the allocation's own labels:
    assert.deepEqual(eks, {
      ...common,
      node_instance_type: 'm5.large',
      node_availability_zone: 'us-east-1a',
      node_capacity_type: 'ON_DEMAND',
      node_architecture: 'amd64',
      node_nodegroup: 'ng-general',
      node_nodegroup_image: 'ami-0abc1230000000001',
      providerID: 'aws:///us-east-1a/i-0a1b2c3d4e5f60001',
    })
    // From the Assets API node's labels (joined on the bare instance id):
    assert.deepEqual(karpenter, {
      ...common,
      node_instance_type: 'c6g.xlarge',
      node_availability_zone: 'us-east-1b',
      node_capacity_type: 'spot',
      node_architecture: 'arm64',
      node_nodegroup: 'default',
      node_nodegroup_image: 'ami-0def4560000000002',
      providerID: 'i-0a1b2c3d4e5f60002',
    })
    // Instance type from the asset's nodeType, node group from the older provisioner-name label:
    assert.deepEqual(legacy, {
      ...common,
      node_instance_type: 'r5.2xlarge',
      node_availability_zone: 'us-east-1c',
      node_capacity_type: 'on-demand',
      node_architecture: 'amd64',
      node_nodegroup: 'legacy',
      node_nodegroup_image: '',
      providerID: 'aws:///us-east-1c/i-0a1b2c3d4e5f60003',
    })
    // EKS and Karpenter labels both present: the first wins, never "SPOTspot":
    assert.equal(both?.node_capacity_type, 'SPOT')
    assert.equal(both?.node_nodegroup, 'ng-spot')
  })

  it("loads no AWS SDK and no HTTP library but Node's own: a local export starts fast", async () => {
    const other = await tempDir()
    try {
      const run = await runCli(exportArgs(fake, other.path), {NODE_OPTIONS: `--import ${REPORT_PACKAGES}`})
      assert.equal(run.code, 0, run.stderr)
      assert.equal((await listFiles(other.path)).length, 4)
      const loaded = /^loaded-packages=(.*)$/m.exec(run.stderr)?.[1]?.split(',') ?? []
      assert.ok(loaded.includes('@oclif/core'), run.stderr)
      assert.deepEqual(
        loaded.filter(p => /^@aws-sdk\/|^@smithy\/|^undici$|^ky$/.test(p)),
        [],
      )
      assert.match(run.stderr, /^bundled-undici=false$/m)
    } finally {
      await other.remove()
    }
  })

  it('writes nothing the second time', async () => {
    const before = await Promise.all(
      (await listFiles(out.path)).map(async f => (await stat(join(out.path, f))).mtimeMs),
    )
    const requestsBefore = fake.requests.length
    const second = await runCli(exportArgs(fake, out.path))
    assert.equal(second.code, 0, second.stderr)
    const after = await Promise.all((await listFiles(out.path)).map(async f => (await stat(join(out.path, f))).mtimeMs))
    assert.deepEqual(after, before)
    assert.deepEqual(
      fake.requests.slice(requestsBefore).map(r => r.api),
      ['availability'],
    )
    assert.match(second.stderr, /to collect: 0/)
  })

  it("logs in the old exporter's line format, one line per step and a summary", () => {
    const lines = first.stderr.trim().split('\n')
    for (const line of lines)
      assert.match(line, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (INFO|WARNING|ERROR) kubecost-s3-exporter: /)
    assert.match(first.stderr, /Candidate days 2026-02-26 to 2026-03-02 \(5\)/)
    assert.match(first.stderr, /Days available in Kubecost: 4, present at destination: 0, to collect: 4/)
    assert.match(
      first.stderr,
      new RegExp(`Wrote ${60 + FAKE_NODES.length + 1} rows for 2026-03-01 to .*2026-03-01_prod\\.snappy\\.parquet`),
    )
    assert.match(first.stderr, /Summary: 4 written, 0 failed, 1 skipped/)
  })
})

describe('export configuration', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 5})
  })
  after(async () => fake.close())

  it("is configured by the old exporter's environment variables alone", async () => {
    const out = await tempDir()
    try {
      const result = await runCli(['export', '--now', NOW], {
        CLUSTER_ID: 'arn:aws:eks:me-south-1:210987654321:cluster/bahrain_1',
        OUTPUT_DIR: out.path,
        KUBECOST_API_ENDPOINT: fake.url,
        BACKFILL_PERIOD_DAYS: '1',
        AGGREGATION: 'namespace',
        LABELS: 'app',
      })
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(await listFiles(out.path), [
        'account_id=210987654321/region=me-south-1/year=2026/month=03/2026-03-02_bahrain_1.snappy.parquet',
      ])
      const last = fake.requests.at(-1)
      assert.equal(last?.params.aggregate, 'cluster,namespace')
      const facts = await readParquet(join(out.path, (await listFiles(out.path))[0] as string))
      assert.equal(facts.schema.at(-1)?.name, 'properties.labels.app')
    } finally {
      await out.remove()
    }
  })

  it('writes nothing on --dry-run and prints the plan', async () => {
    const out = await tempDir()
    try {
      const mark = fake.requests.length
      const result = await runCli(exportArgs(fake, out.path, ['--dry-run']))
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(await listFiles(out.path), [])
      assert.match(result.stdout, /2026-02-27\s+unavailable/)
      assert.match(
        result.stdout,
        /2026-03-02\s+collect\s+account_id=111122223333\/region=us-east-1\/year=2026\/month=03\/2026-03-02_prod\.snappy\.parquet/,
      )
      assert.match(result.stdout, /5 candidate days: 0 present, 4 to collect, 1 unavailable/)
      assert.deepEqual(
        fake.requests.slice(mark).map(r => r.api),
        ['availability'],
      )
    } finally {
      await out.remove()
    }
  })

  it('exits 0 with a clear message when Kubecost has no data for any candidate day', async () => {
    const empty = await FakeKubecost.start({cluster: 'prod', days: []})
    const out = await tempDir()
    try {
      const result = await runCli(exportArgs(empty, out.path))
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /Kubecost has no data yet for any candidate day \(2026-02-26 to 2026-03-02\)/)
      assert.deepEqual(await listFiles(out.path), [])
    } finally {
      await empty.close()
      await out.remove()
    }
  })

  const usage: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      'a malformed cluster ARN',
      ['--cluster-arn', 'arn:aws:ec2:us-east-1:111122223333:cluster/x'],
      {},
      /--cluster-arn \(CLUSTER_ID\) "arn:aws:ec2:us-east-1:111122223333:cluster\/x": not an EKS cluster ARN/,
    ],
    ['a malformed CLUSTER_ID', [], {CLUSTER_ID: 'prod'}, /--cluster-arn \(CLUSTER_ID\) "prod"/],
    ['a missing cluster ARN', [], {}, /Missing --cluster-arn \(CLUSTER_ID\)/],
    [
      'a bad bucket name',
      ['--cluster-arn', ARN, '--bucket', 'My_Bucket'],
      {},
      /--bucket \(S3_BUCKET_NAME\) "My_Bucket"/,
    ],
    [
      'a bad label key',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x', '--labels', 'app,bad key'],
      {},
      /--labels \(LABELS\) "app,bad key": "bad key" is not a Kubernetes key/,
    ],
    [
      'a bad annotation key from the environment',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x'],
      {ANNOTATIONS: '-x'},
      /--annotations \(ANNOTATIONS\) "-x"/,
    ],
    [
      'zero back-fill days',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x', '--backfill-days', '0'],
      {},
      /--backfill-days \(BACKFILL_PERIOD_DAYS\) "0": must be a whole number from 1 to 400/,
    ],
    [
      'a negative timeout',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x'],
      {CONNECTION_TIMEOUT: '-1'},
      /--connect-timeout \(CONNECTION_TIMEOUT\) "-1"/,
    ],
    [
      'a zero read timeout',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x', '--allocation-read-timeout', '0'],
      {},
      /--allocation-read-timeout \(KUBECOST_ALLOCATION_API_READ_TIMEOUT\) "0"/,
    ],
    [
      'an unsupported URL scheme',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x'],
      {KUBECOST_API_ENDPOINT: 'ftp://kubecost:9090'},
      /--kubecost-url \(KUBECOST_API_ENDPOINT\) "ftp:\/\/kubecost:9090": scheme "ftp" is not supported/,
    ],
    [
      'an unknown aggregation',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x'],
      {AGGREGATION: 'deployment'},
      /--aggregation \(AGGREGATION\) "deployment": must be one of: container, pod/,
    ],
    [
      'neither destination',
      ['--cluster-arn', ARN],
      {},
      /No destination: set --bucket \(S3_BUCKET_NAME\) or --output-dir \(OUTPUT_DIR\)/,
    ],
    [
      'both destinations',
      ['--cluster-arn', ARN],
      {S3_BUCKET_NAME: 'kubecost-data', OUTPUT_DIR: '/tmp/x'},
      /Both --bucket \(S3_BUCKET_NAME\) "kubecost-data" and --output-dir \(OUTPUT_DIR\) "\/tmp\/x" are set/,
    ],
    [
      'a --prefix with a control character',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x', '--prefix', 'kube\ncost'],
      {},
      /^Error: Invalid --prefix \(S3_PREFIX\) "kube\\ncost": a key prefix cannot contain control characters$/m,
    ],
    [
      'an S3_PREFIX with an escape sequence',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x'],
      {S3_PREFIX: '\u001b[2Jkubecost'},
      /^Error: Invalid --prefix \(S3_PREFIX\) "\\x1b\[2Jkubecost": a key prefix cannot contain control characters$/m,
    ],
    [
      'an unknown flag',
      ['--cluster-arn', ARN, '--output-dir', '/tmp/x', '--bogus'],
      {},
      /^Error: Unknown flag --bogus\n/,
    ],
  ]
  for (const [what, args, env, message] of usage) {
    it(`exits 2 on ${what}, naming it`, async () => {
      const result = await runCli(['export', ...args], {KUBECOST_API_ENDPOINT: fake.url, ...env})
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, message)
    })
  }

  it('reports a usage error as JSON under --json', async () => {
    const result = await runCli(['export', '--json', '--cluster-arn', 'nope', '--output-dir', '/tmp/x'])
    assert.equal(result.code, 2)
    const body = JSON.parse(result.stdout) as {error: {code: string; message: string}}
    assert.equal(body.error.code, 'INVALID_INPUT')
    assert.match(body.error.message, /"nope"/)
  })

  for (const [flag, env] of [
    ['kubecost-url', 'KUBECOST_API_ENDPOINT'],
    ['s3-endpoint', 'S3_ENDPOINT_URL'],
  ] as const) {
    it(`never repeats the credentials of an invalid --${flag}, in text or JSON`, async () => {
      const args = [
        'export',
        '--cluster-arn',
        ARN,
        ...(flag === 's3-endpoint' ? ['--bucket', 'kubecost-data'] : ['--output-dir', '/tmp/x']),
      ]
      const text = await runCli(args, {[env]: 'htp//user:TOKEN@kubecost'})
      assert.equal(text.code, 2, text.stderr)
      assert.match(text.stderr, new RegExp(`Invalid --${flag} \\(${env}\\) "htp//\\*\\*\\*@kubecost": not a URL`))
      const json = await runCli([...args, '--json'], {[env]: 'htp//user:TOKEN@kubecost'})
      assert.equal(json.code, 2)
      for (const output of [text.stdout, text.stderr, json.stdout, json.stderr])
        assert.doesNotMatch(output, /TOKEN|user:/)
    })
  }

  for (const [flag, env, example, foreign] of [
    ['kubecost-url', 'KUBECOST_API_ENDPOINT', /http:\/\/kubecost-cost-analyzer\.kubecost:9090 \(Kubecost\)/, /MinIO/],
    ['s3-endpoint', 'S3_ENDPOINT_URL', /http:\/\/127\.0\.0\.1:9000 \(MinIO\)/, /kubecost-cost-analyzer/],
  ] as const) {
    it(`--${flag}: "add http://" for host:port, and examples of its own for what is not a URL`, async () => {
      const args = [
        'export',
        '--cluster-arn',
        ARN,
        ...(flag === 's3-endpoint' ? ['--bucket', 'kubecost-data'] : ['--output-dir', '/tmp/x']),
      ]
      const bare = await runCli(args, {[env]: '127.0.0.1:4568'})
      assert.equal(bare.code, 2, bare.stderr)
      assert.match(
        bare.stderr,
        new RegExp(`Invalid --${flag} \\(${env}\\) "127\\.0\\.0\\.1:4568": it has no scheme; add http://`),
      )
      assert.match(
        bare.stderr,
        /Use http:\/\/127\.0\.0\.1:4568 \(or https:\/\/127\.0\.0\.1:4568 if the port speaks TLS\)/,
      )
      const notUrl = await runCli(args, {[env]: 'not a url'})
      assert.equal(notUrl.code, 2, notUrl.stderr)
      assert.match(notUrl.stderr, example)
      assert.doesNotMatch(notUrl.stderr, foreign)
    })
  }
})

describe('export failures', () => {
  const run = async (fake: FakeKubecost, extra: string[] = []) => {
    const out = await tempDir()
    try {
      const result = await runCli(exportArgs(fake, out.path, extra))
      return {...result, files: await listFiles(out.path)}
    } finally {
      await out.remove()
    }
  }

  it('keeps going after a failed day, leaves no file for it, and exits 1 naming it', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 5})
    fake.addFault({kind: 'html-504', api: 'allocation', day: '2026-02-28'})
    try {
      const result = await run(fake)
      assert.equal(result.code, 1)
      assert.deepEqual(
        result.files,
        ['2026-02-26', '2026-03-01', '2026-03-02'].map(d => keyOf(d)),
      )
      assert.match(
        result.stderr,
        /Failed to export 2026-02-28: Kubecost Allocation API returned HTTP 504 Gateway Timeout for GET http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?window=2026-02-28T00%3A00%3A00Z%2C2026-03-01T00%3A00%3A00Z.*: <html>/,
      )
      assert.match(result.stderr, /2026-02-28: failed/)
      assert.match(result.stderr, /1 of 4 days failed: 2026-02-28/)
    } finally {
      await fake.close()
    }
  })

  describe('one JSON failure shape', () => {
    interface ErrorJson {
      code: string
      message: string
      exitCode: number
      suggestions: string[]
    }
    const partly = async (extra: string[]) => {
      const fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 5})
      fake.addFault({kind: 'html-504', api: 'allocation', day: '2026-02-28'})
      try {
        return await run(fake, ['--retries', '0', ...extra])
      } finally {
        await fake.close()
      }
    }

    const logLines = (stderr: string) =>
      stderr
        .trim()
        .split('\n')
        .map(l => JSON.parse(l) as Record<string, unknown>)

    it('a partial failure under --json: the error beside the result, so one field tells failure', async () => {
      const result = await partly(['--json'])
      assert.equal(result.code, 1, result.stderr)
      const body = JSON.parse(result.stdout) as {
        error: ErrorJson
        result: {written: number; failed: number; outcomes: Array<{date: string; status: string}>}
      }
      assert.deepEqual(Object.keys(body), ['error', 'result'])
      assert.deepEqual(Object.keys(body.error), ['code', 'message', 'exitCode', 'suggestions'])
      assert.deepEqual([body.error.code, body.error.exitCode], ['PARTIAL_FAILURE', 1])
      assert.match(body.error.message, /1 of 4 days failed: 2026-02-28/)
      assert.ok(Array.isArray(body.error.suggestions))
      assert.deepEqual([body.result.written, body.result.failed], [3, 1])
      assert.equal(body.result.outcomes.find(o => o.date === '2026-02-28')?.status, 'failed')
    })

    for (const extra of [
      ['--log-format', 'json'],
      ['--log-format', 'json', '--json'],
    ]) {
      it(`a partial failure with ${extra.join(' ')}: the JSON log ends with the ERROR line, suggestions an array`, async () => {
        const result = await partly(extra)
        assert.equal(result.code, 1, result.stderr)
        const lines = logLines(result.stderr)
        const last = lines.at(-1) ?? {}
        assert.deepEqual([last.level, last.code, last.exitCode], ['ERROR', 'PARTIAL_FAILURE', 1])
        assert.match(String(last.message), /1 of 4 days failed: 2026-02-28/)
        assert.ok(Array.isArray(last.suggestions), JSON.stringify(last))
        assert.match(String(lines.at(-2)?.message), /^Summary:/)
        if (extra.includes('--json')) {
          const {error} = JSON.parse(result.stdout) as {error: ErrorJson}
          assert.deepEqual([error.code, error.message, error.suggestions], [last.code, last.message, last.suggestions])
        }
      })
    }

    it('a total failure with --json and --log-format json: {"error"} on stdout and the same ERROR line last in the log', async () => {
      const result = await runCli([
        'export',
        '--cluster-arn',
        ARN,
        '--output-dir',
        '/tmp/x',
        '--kubecost-url',
        await refusedUrl(),
        '--now',
        NOW,
        '--retries',
        '0',
        '--json',
        '--log-format',
        'json',
      ])
      assert.equal(result.code, 1, result.stderr)
      const body = JSON.parse(result.stdout) as {error: ErrorJson}
      assert.deepEqual(Object.keys(body), ['error'])
      const last = logLines(result.stderr).at(-1) ?? {}
      assert.deepEqual(
        [last.level, last.code, last.message, last.suggestions],
        ['ERROR', body.error.code, body.error.message, body.error.suggestions],
      )
    })
  })

  const failures: Array<[string, Parameters<FakeKubecost['addFault']>[0], RegExp]> = [
    [
      'a plain-text 400 on the availability call',
      {kind: 'text-400', api: 'availability'},
      /Kubecost Allocation API returned HTTP 400 Bad Request for GET http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?window=2026-02-26T00%3A00%3A00Z%2C2026-03-03T00%3A00%3A00Z&aggregate=cluster.*: error parsing window/,
    ],
    [
      'a 200 body that is not JSON',
      {kind: 'not-json', api: 'availability'},
      /with a body that is not JSON \(the body is not a JSON object\): <!DOCTYPE html>/,
    ],
    [
      'an error envelope',
      {kind: 'error-envelope', api: 'availability'},
      /answered GET .* with error code 500: Error: failed to query Prometheus/,
    ],
    [
      'truncated JSON',
      {kind: 'truncate', api: 'allocation'},
      /Kubecost Allocation API (response to GET .* was cut off|connection to 127\.0\.0\.1:\d+ failed)/,
    ],
    [
      'a day that comes back empty',
      {kind: 'empty-sets', api: 'allocation'},
      /Kubecost reported data for 2026-02-26 in the availability call, but GET .* returned no allocations/,
    ],
    ['an assets failure', {kind: 'status-503', api: 'assets'}, /Kubecost Assets API returned HTTP 503/],
  ]
  for (const [what, fault, message] of failures) {
    it(`exits 1 on ${what}, with the call, URL and what came back, and writes no file for the failed day`, async () => {
      const fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 5})
      fake.addFault({...fault, ...(fault.api === 'availability' ? {} : {day: '2026-02-26'})})
      try {
        const result = await run(fake)
        assert.equal(result.code, 1, result.stderr)
        assert.match(result.stderr, message)
        assert.ok(!result.files.includes(keyOf('2026-02-26')), result.files.join())
        assert.ok(result.files.every(f => !f.includes('partial')))
      } finally {
        await fake.close()
      }
    })
  }

  it('exits 1 naming the path when the output directory cannot be used', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 2})
    const dir = await tempDir()
    try {
      const notADirectory = join(dir.path, 'file')
      await writeFile(notADirectory, 'x')
      const result = await runCli(exportArgs(fake, notADirectory))
      assert.equal(result.code, 1)
      assert.match(
        result.stderr,
        new RegExp(
          `Could not list ${notADirectory.replaceAll('/', '\\/')}/account_id=111122223333/region=us-east-1 \\(ENOTDIR: a part of the path is a file`,
        ),
      )
      assert.match(result.stderr, /Try: Give an --output-dir \(OUTPUT_DIR\) that is a directory or can be created/)
    } finally {
      await fake.close()
      await dir.remove()
    }
  })

  it('fails fast, naming the path and errno, when the output directory cannot be made (under /proc)', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: KUBECOST_DAYS, containersPerDay: 2})
    // Node.js's recursive mkdir spins for ever there: the run is ended if it has not ended by itself.
    const {child, done} = spawnCli(exportArgs(fake, '/proc/kubecost-cid-test/out', ['--json']))
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    try {
      const result = await done
      assert.equal(result.code, 1, result.stderr)
      const {error, result: body} = JSON.parse(result.stdout) as {
        error: {code: string}
        result: {failed: number; outcomes: Array<{status: string; code: string; error: string}>}
      }
      assert.equal(error.code, 'PARTIAL_FAILURE')
      assert.equal(body.failed, 4)
      for (const outcome of body.outcomes.filter(o => o.status === 'failed')) {
        assert.equal(outcome.code, 'LOCAL_IO')
        assert.match(outcome.error, /^Could not create the directory \/proc\/kubecost-cid-test \(ENOENT: /)
      }
    } finally {
      clearTimeout(guard)
      await fake.close()
    }
  })

  it('exits 1 when Kubecost refuses the connection, with a hint about the service name', async () => {
    const url = await refusedUrl()
    const out = await tempDir()
    try {
      const result = await runCli([
        'export',
        '--cluster-arn',
        ARN,
        '--output-dir',
        out.path,
        '--kubecost-url',
        url,
        '--now',
        NOW,
      ])
      assert.equal(result.code, 1)
      assert.match(
        result.stderr,
        /Kubecost Allocation API connection refused by 127\.0\.0\.1:\d+: GET http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?/,
      )
      assert.match(result.stderr, /Helm release prefix/)
      assert.deepEqual(await listFiles(out.path), [])
    } finally {
      await out.remove()
    }
  })
})
