import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand} from '@aws-sdk/client-s3'

import {dayAllocations} from '../fakes/kubecost-data.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {type S3Fake, startS3} from '../fakes/s3.js'
import {runCli, tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const BUCKET = 'kubecost-data-111122223333'
const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const NOW = '2026-03-05T10:30:00Z'
const DAYS = ['2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']
const PARTITION = 'account_id=111122223333/region=us-east-1'
const keyOf = (day: string, cluster = 'prod', prefix = 'kubecost') =>
  `${prefix}/${PARTITION}/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_${cluster}.snappy.parquet`

async function allKeys(s3: S3Fake, prefix = ''): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await s3.client.send(
      new ListObjectsV2Command({Bucket: BUCKET, Prefix: prefix, ContinuationToken: token}),
    )
    for (const o of page.Contents ?? []) keys.push(o.Key as string)
    token = page.NextContinuationToken
  } while (token)
  return keys.sort()
}

describe('export to S3 (s3rver over real HTTP)', () => {
  let s3: S3Fake
  let fake: FakeKubecost
  const args = (extra: string[] = [], arn = ARN) => [
    'export',
    '--cluster-arn',
    arn,
    '--bucket',
    BUCKET,
    '--prefix',
    '/kubecost/',
    '--s3-endpoint',
    s3.endpoint,
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    '5',
    '--now',
    NOW,
    ...extra,
  ]

  before(async () => {
    s3 = await startS3([BUCKET])
    fake = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 8})
    // More than one listing page (1,000 keys) of other clusters' files under the same partition, whose
    // names contain "prod", plus foreign objects; and one day of ours already present, listed last.
    const body = Buffer.from('not ours')
    const puts: Array<Promise<unknown>> = []
    for (let i = 0; i < 1_050; i++) {
      const day = `2025-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`
      const cluster = ['prod-eu', 'eu-prod', 'preprod'][i % 3] as string
      puts.push(
        s3.client.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `kubecost/${PARTITION}/year=2025/month=${day.slice(5, 7)}/${day}_${cluster}-${i}.snappy.parquet`,
            Body: body,
          }),
        ),
      )
      if (puts.length >= 50) await Promise.all(puts.splice(0))
    }

    puts.push(
      s3.client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `kubecost/${PARTITION}/year=2026/month=03/2026-03-01_prod-eu.snappy.parquet`,
          Body: body,
        }),
      ),
      s3.client.send(new PutObjectCommand({Bucket: BUCKET, Key: `kubecost/${PARTITION}/README.txt`, Body: body})),
      s3.client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `other/${PARTITION}/year=2026/month=02/2026-02-27_prod.snappy.parquet`,
          Body: body,
        }),
      ),
      s3.client.send(new PutObjectCommand({Bucket: BUCKET, Key: keyOf('2026-03-02'), Body: body})),
    )
    await Promise.all(puts)
  })
  after(async () => {
    await fake.close()
    await s3.close()
  })

  it('lists past the first page, collects only the missing days, and uploads them under the prefix', async () => {
    const result = await runCli(args(), s3.env)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /present at destination: 1, to collect: 4/)
    const ours = (await allKeys(s3, 'kubecost/')).filter(k => k.endsWith('_prod.snappy.parquet'))
    assert.deepEqual(
      ours,
      DAYS.map(d => keyOf(d)),
    )
    // The present day was not rewritten.
    const kept = await s3.client.send(new GetObjectCommand({Bucket: BUCKET, Key: keyOf('2026-03-02')}))
    assert.equal(await kept.Body?.transformToString(), 'not ours')
  })

  it('uploads complete Parquet files with every allocation of the day', async () => {
    const object = await s3.client.send(new GetObjectCommand({Bucket: BUCKET, Key: keyOf('2026-02-27')}))
    const bytes = await object.Body?.transformToByteArray()
    assert.ok(bytes)
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, bytes)
      const facts = await readParquet(file)
      assert.equal(facts.rows.length, [...dayAllocations('2026-02-27', fake.dataOptions)].length)
      assert.equal(facts.rows[0]?.['properties.clusterid'], ARN)
    } finally {
      await dir.remove()
    }
  })

  it('writes nothing the second time', async () => {
    const before = await allKeys(s3)
    const result = await runCli(args(), s3.env)
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await allKeys(s3), before)
    assert.match(result.stderr, /to collect: 0/)
  })

  it('dry run makes no write', async () => {
    const before = await allKeys(s3)
    const result = await runCli(args(['--dry-run'], 'arn:aws:eks:us-east-1:111122223333:cluster/dry'), s3.env)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /5 candidate days: 0 present, 5 to collect, 0 unavailable/)
    assert.deepEqual(await allKeys(s3), before)
  })

  it('leaves no object at the final key of a failed day', async () => {
    const other = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 3})
    other.addFault({kind: 'truncate', api: 'allocation', day: '2026-02-28'})
    try {
      const result = await runCli(
        [
          'export',
          '--cluster-arn',
          'arn:aws:eks:us-east-1:111122223333:cluster/staging',
          '--bucket',
          BUCKET,
          '--s3-endpoint',
          s3.endpoint,
          '--kubecost-url',
          other.url,
          '--backfill-days',
          '5',
          '--now',
          NOW,
        ],
        s3.env,
      )
      assert.equal(result.code, 1)
      const staging = (await allKeys(s3, `${PARTITION}/`)).filter(k => k.includes('_staging.'))
      assert.deepEqual(
        staging,
        ['2026-02-26', '2026-02-27', '2026-03-01', '2026-03-02'].map(
          d => `${PARTITION}/year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/${d}_staging.snappy.parquet`,
        ),
      )
    } finally {
      await other.close()
    }
  })

  it("works without AWS_REGION, starting from the cluster's region", async () => {
    const withoutRegion = Object.fromEntries(Object.entries(s3.env).filter(([name]) => name !== 'AWS_REGION'))
    const result = await runCli(args(['--dry-run']), withoutRegion)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /5 candidate days/)
  })

  it('exits 1 naming the bucket and action when the bucket does not exist', async () => {
    const result = await runCli(
      [
        'export',
        '--cluster-arn',
        ARN,
        '--bucket',
        'no-such-bucket-here',
        '--s3-endpoint',
        s3.endpoint,
        '--kubecost-url',
        fake.url,
        '--now',
        NOW,
      ],
      s3.env,
    )
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Bucket not found: s3:ListBucket on s3:\/\/no-such-bucket-here\/account_id=111122223333\/region=us-east-1\//,
    )
  })
})

describe('export --split-by-cluster to S3 (s3rver over real HTTP)', () => {
  it("uploads each cluster's days under its own account and region, and a second run writes nothing", async () => {
    const s3 = await startS3([BUCKET])
    const days = ['2026-03-01', '2026-03-02']
    const fake = await FakeKubecost.start({
      days: [],
      clusters: {'cluster-one': days, 'cluster-two': days, 'not-mapped': days},
      containersPerDay: 6,
    })
    try {
      const args = [
        'export',
        '--split-by-cluster',
        '--cluster-map',
        `cluster-one=${ARN},cluster-two=arn:aws:eks:eu-west-1:444455556666:cluster/staging`,
        '--bucket',
        BUCKET,
        '--prefix',
        'kubecost',
        '--s3-endpoint',
        s3.endpoint,
        '--kubecost-url',
        fake.url,
        '--from',
        '2026-03-01',
        '--now',
        NOW,
      ]
      const first = await runCli(args, s3.env)
      assert.equal(first.code, 0, first.stderr)
      const staging = (day: string) =>
        `kubecost/account_id=444455556666/region=eu-west-1/year=2026/month=03/${day}_staging.snappy.parquet`
      assert.deepEqual(await allKeys(s3), [...days.map(d => keyOf(d)), ...days.map(staging)].sort())
      const object = await s3.client.send(new GetObjectCommand({Bucket: BUCKET, Key: staging('2026-03-02')}))
      const dir = await tempDir()
      try {
        const file = join(dir.path, 'day.parquet')
        await writeFile(file, (await object.Body?.transformToByteArray()) ?? new Uint8Array())
        const {rows} = await readParquet(file)
        assert.equal(rows.length, [...dayAllocations('2026-03-02', fake.dataOptionsOf('cluster-two'))].length)
        assert.ok(rows.every(r => r['properties.clusterid'] === 'arn:aws:eks:eu-west-1:444455556666:cluster/staging'))
      } finally {
        await dir.remove()
      }

      const second = await runCli(args, s3.env)
      assert.equal(second.code, 0, second.stderr)
      assert.match(second.stderr, /present at destination: 4, to collect: 0/)
    } finally {
      await fake.close()
      await s3.close()
    }
  })
})
