import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {GetObjectCommand, ListObjectsV2Command} from '@aws-sdk/client-s3'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {type S3Fake, TEST_CREDENTIALS, startS3} from '../fakes/s3.js'
import {S3Proxy} from '../fakes/s3-proxy.js'
import {refusedUrl, runCli, tempDir} from '../helpers.js'

const BUCKET = 'kubecost-data-111122223333'
const NOW = '2026-03-05T10:30:00Z'
const DAYS = ['2026-03-01', '2026-03-02']
const PARTITION = 'account_id=111122223333/region=us-east-1'
const arn = (cluster: string) => `arn:aws:eks:us-east-1:111122223333:cluster/${cluster}`
const keyOf = (day: string, cluster: string) =>
  `${PARTITION}/year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${day}_${cluster}.snappy.parquet`
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
}

describe('export to S3 through a faulty S3 (proxy in front of s3rver, over real HTTP)', () => {
  let s3: S3Fake
  let kubecost: FakeKubecost
  let expected: Map<string, Buffer>
  const clusters = new Map<string, string>()

  /** The day files a local export of `cluster` writes: what must arrive in S3 byte for byte. */
  async function localFiles(cluster: string): Promise<Map<string, Buffer>> {
    const dir = await tempDir()
    try {
      const result = await runCli([
        'export',
        '--cluster-arn',
        arn(cluster),
        '--output-dir',
        dir.path,
        '--kubecost-url',
        kubecost.url,
        '--backfill-days',
        '2',
        '--now',
        NOW,
      ])
      assert.equal(result.code, 0, result.stderr)
      const files = new Map<string, Buffer>()
      for (const day of DAYS) files.set(day, await readFile(join(dir.path, ...keyOf(day, cluster).split('/'))))
      return files
    } finally {
      await dir.remove()
    }
  }

  /** A cluster name of its own per test, so that no test sees another's objects. */
  function cluster(test: string): string {
    const name = `c${clusters.size}`
    clusters.set(test, name)
    return name
  }

  async function object(key: string): Promise<Buffer | undefined> {
    try {
      const answer = await s3.client.send(new GetObjectCommand({Bucket: BUCKET, Key: key}))
      return Buffer.from((await answer.Body?.transformToByteArray()) ?? [])
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined
      throw error
    }
  }

  async function keysOf(name: string): Promise<string[]> {
    const page = await s3.client.send(new ListObjectsV2Command({Bucket: BUCKET, Prefix: `${PARTITION}/`}))
    return (page.Contents ?? [])
      .map(o => o.Key as string)
      .filter(k => k.endsWith(`_${name}.snappy.parquet`))
      .sort()
  }

  async function assertWritten(name: string): Promise<void> {
    for (const day of DAYS) {
      const stored = await object(keyOf(day, name))
      assert.ok(stored, `${day} was not stored`)
      assert.ok(stored.equals(expected.get(day) as Buffer), `${day}: the object differs from the local file`)
    }
  }

  // Through --s3-endpoint: path-style, checksums only when required, so Content-MD5 is what protects the body.
  const viaEndpoint = (proxy: S3Proxy, name: string, extra: string[] = []) =>
    runCli(
      [
        'export',
        '--cluster-arn',
        arn(name),
        '--bucket',
        BUCKET,
        '--s3-endpoint',
        proxy.endpoint,
        '--kubecost-url',
        kubecost.url,
        '--backfill-days',
        '2',
        '--now',
        NOW,
        ...extra,
      ],
      {...CREDENTIALS, AWS_REGION: 'us-east-1'},
    )

  before(async () => {
    s3 = await startS3([BUCKET])
    // Enough containers for a file of several tens of KB, so that a cut after 4 KB is mid-body.
    kubecost = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 60})
    expected = new Map()
  })
  after(async () => {
    await kubecost.close()
    await s3.close()
  })

  describe('a bucket in another region than the configured one (301 PermanentRedirect with x-amz-bucket-region)', () => {
    // No --s3-endpoint: the CLI's AWS configuration (flexible checksums, virtual-host rules), with the
    // endpoint from AWS_ENDPOINT_URL_S3, which the SDK uses for every region; the proxy tells the
    // regions apart by the region each request is signed for.
    const viaAws = (proxy: S3Proxy, name: string, env: Record<string, string>) =>
      runCli(
        [
          'export',
          '--cluster-arn',
          arn(name),
          '--bucket',
          BUCKET,
          '--kubecost-url',
          kubecost.url,
          '--backfill-days',
          '2',
          '--now',
          NOW,
        ],
        {...CREDENTIALS, AWS_ENDPOINT_URL_S3: proxy.endpoint, ...env},
      )

    for (const [title, env, source] of [
      ['with AWS_REGION=us-east-1', {AWS_REGION: 'us-east-1'}, /\(AWS_REGION\)/],
      [
        "without AWS_REGION (starting from the cluster's region)",
        {},
        /\(the cluster's region, as no AWS region is configured\)/,
      ],
    ] as const) {
      it(`${title}: learns the region from the first redirect and writes every day there`, async () => {
        const name = cluster(title)
        expected = await localFiles(name)
        const proxy = await S3Proxy.start({target: s3.endpoint, bucketRegion: 'eu-west-1'})
        try {
          const result = await viaAws(proxy, name, env)
          assert.equal(result.code, 0, result.stderr)
          await assertWritten(name)
          // One redirect for the run (the listing), then every call signed for the bucket's region.
          assert.equal(proxy.requests.filter(r => r.outcome === 'redirected').length, 1)
          assert.deepEqual(
            proxy.stored.map(r => [r.key, r.region]),
            DAYS.map(d => [keyOf(d, name), 'eu-west-1']),
          )
          assert.match(result.stderr, /INFO .*Bucket kubecost-data-111122223333 is in region eu-west-1, not us-east-1 /)
          assert.match(result.stderr, source)
          assert.match(result.stderr, /Set AWS_REGION=eu-west-1 in the exporter's environment to save the redirect/)
        } finally {
          await proxy.close()
        }
      })
    }

    it("with AWS_REGION set to the bucket's region: no redirect and no region message", async () => {
      const name = cluster('right region')
      expected = await localFiles(name)
      const proxy = await S3Proxy.start({target: s3.endpoint, bucketRegion: 'eu-west-1'})
      try {
        const result = await viaAws(proxy, name, {AWS_REGION: 'eu-west-1'})
        assert.equal(result.code, 0, result.stderr)
        await assertWritten(name)
        assert.equal(proxy.requests.filter(r => r.outcome === 'redirected').length, 0)
        assert.doesNotMatch(result.stderr, /is in region/)
      } finally {
        await proxy.close()
      }
    })

    it("an endpoint that cannot serve the bucket's region: exit 1 naming the region and AWS_REGION, nothing stored", async () => {
      const name = cluster('redirect always')
      const proxy = await S3Proxy.start({target: s3.endpoint, bucketRegion: 'eu-west-1', redirectAlways: true})
      try {
        const result = await viaAws(proxy, name, {AWS_REGION: 'us-east-1'})
        assert.equal(result.code, 1)
        assert.match(
          result.stderr,
          /S3 says the bucket is in region eu-west-1: s3:ListBucket on s3:\/\/kubecost-data-111122223333\/account_id=111122223333\/region=us-east-1\/ failed \(HTTP 301 PermanentRedirect/,
        )
        assert.match(result.stderr, /Set AWS_REGION=eu-west-1 \(the bucket's region\)/)
        assert.deepEqual(await keysOf(name), [])
      } finally {
        await proxy.close()
      }
    })

    it('a body corrupted on the way is refused by its flexible checksum, sent again, and stored intact', async () => {
      const name = cluster('corrupt aws')
      expected = await localFiles(name)
      const proxy = await S3Proxy.start({target: s3.endpoint})
      proxy.addFault('put', {kind: 'corrupt'})
      try {
        const result = await viaAws(proxy, name, {AWS_REGION: 'us-east-1'})
        assert.equal(result.code, 0, result.stderr)
        await assertWritten(name)
        assert.equal(proxy.requests.filter(r => r.outcome === 'bad-digest').length, 1)
        assert.match(
          result.stderr,
          /WARNING .*S3 PutObject of s3:\/\/kubecost-data-111122223333\/.*_c\d+\.snappy\.parquet failed \(HTTP 400 BadDigest\), attempt 1 of 5; retrying in \d+\.\d s/,
        )
      } finally {
        await proxy.close()
      }
    })
  })

  it('two 503 SlowDown answers, then success: the day is written, byte-identical, each retry logged', async () => {
    const name = cluster('slowdown')
    expected = await localFiles(name)
    const proxy = await S3Proxy.start({target: s3.endpoint})
    proxy.addFault('put', {kind: 'status', status: 503, code: 'SlowDown'})
    proxy.addFault('put', {kind: 'status', status: 503, code: 'SlowDown'})
    try {
      const result = await viaEndpoint(proxy, name)
      assert.equal(result.code, 0, result.stderr)
      await assertWritten(name)
      const first = keyOf(DAYS[0] as string, name)
      assert.deepEqual(
        proxy.requests.filter(r => r.key === first && r.operation === 'put').map(r => [r.attempt, r.outcome]),
        [
          ['attempt=1; max=5', 'status'],
          ['attempt=2; max=5', 'status'],
          ['attempt=3; max=5', 'forwarded'],
        ],
      )
      const retries = result.stderr.split('\n').filter(l => l.includes('retrying in'))
      assert.equal(retries.length, 2)
      assert.match(
        retries[0] as string,
        new RegExp(
          `S3 PutObject of s3://${BUCKET}/${first} failed \\(HTTP 503 SlowDown\\), attempt 1 of 5; retrying in \\d+\\.\\d s`,
        ),
      )
      assert.match(retries[1] as string, /attempt 2 of 5/)
    } finally {
      await proxy.close()
    }
  })

  it("a proxy's bare 429 twice, then success: retried as throttling, logged by its status alone, the day written", async () => {
    const name = cluster('bare 429')
    expected = await localFiles(name)
    const proxy = await S3Proxy.start({target: s3.endpoint})
    for (let i = 0; i < 2; i++)
      proxy.addFault('put', {kind: 'page', status: 429, body: 'Too Many Requests', contentType: 'text/plain'})
    try {
      const result = await viaEndpoint(proxy, name, ['--log-format', 'json'])
      assert.equal(result.code, 0, result.stderr)
      await assertWritten(name)
      const retries = result.stderr
        .split('\n')
        .filter(l => l.includes('retrying in'))
        .map(l => JSON.parse(l) as {message: string; reason: string; throttling: boolean})
      assert.equal(retries.length, 2)
      for (const retry of retries) {
        assert.equal(retry.reason, 'HTTP 429')
        assert.equal(retry.throttling, true)
        assert.match(retry.message, /S3 PutObject of .* failed \(HTTP 429\), attempt \d of 5; retrying in/)
      }

      assert.doesNotMatch(result.stderr, /Unknown|Deserialization|XML parse/)
    } finally {
      await proxy.close()
    }
  })

  it('an upload cut after 4 KB, then success: the day is written, byte-identical', async () => {
    const name = cluster('cut')
    expected = await localFiles(name)
    assert.ok(
      (expected.get(DAYS[0] as string) as Buffer).length > 16 * 1024,
      'the file is large enough to be cut mid-body',
    )
    const proxy = await S3Proxy.start({target: s3.endpoint})
    proxy.addFault('put', {kind: 'cut', afterBytes: 4096})
    try {
      const result = await viaEndpoint(proxy, name)
      assert.equal(result.code, 0, result.stderr)
      await assertWritten(name)
      assert.deepEqual(
        proxy.requests.filter(r => r.operation === 'put').map(r => r.outcome),
        ['cut', 'forwarded', 'forwarded'],
      )
      assert.match(result.stderr, /PutObject of .* failed \((ECONNRESET|EPIPE)\), attempt 1 of 5/)
    } finally {
      await proxy.close()
    }
  })

  it('a body corrupted on the way is refused by its Content-MD5 (--s3-endpoint), sent again, and stored intact', async () => {
    const name = cluster('corrupt endpoint')
    expected = await localFiles(name)
    const proxy = await S3Proxy.start({target: s3.endpoint})
    proxy.addFault('put', {kind: 'corrupt'})
    try {
      const result = await viaEndpoint(proxy, name)
      assert.equal(result.code, 0, result.stderr)
      await assertWritten(name)
      assert.deepEqual(
        proxy.requests.filter(r => r.operation === 'put').map(r => r.outcome),
        ['bad-digest', 'forwarded', 'forwarded'],
      )
    } finally {
      await proxy.close()
    }
  })

  // Without a timeout on each attempt the run would never end: the test's own timeout says so.
  it(
    'an upload and a listing held with no answer fail within --s3-timeout and are sent again',
    {timeout: 120_000},
    async () => {
      const name = cluster('hold')
      expected = await localFiles(name)
      const proxy = await S3Proxy.start({target: s3.endpoint})
      proxy.addFault('list', {kind: 'hold'})
      proxy.addFault('put', {kind: 'hold'})
      try {
        // Each attempt may take 2 s: far above what a busy machine can delay an answer by.
        const result = await viaEndpoint(proxy, name, ['--s3-timeout', '2'])
        assert.equal(result.code, 0, result.stderr)
        await assertWritten(name)
        assert.match(result.stderr, /S3 ListObjectsV2 of .* failed \(TimeoutError\), attempt 1 of 5/)
        assert.match(result.stderr, /S3 PutObject of .* failed \(TimeoutError\), attempt 1 of 5/)
      } finally {
        await proxy.close()
      }
    },
  )

  it('S3 failing every time: exit 1 naming S3, the key, the status, the attempts and what to do; nothing stored; the next run writes it', async () => {
    const name = cluster('always')
    expected = await localFiles(name)
    const proxy = await S3Proxy.start({target: s3.endpoint})
    proxy.addFault('put', {kind: 'status', status: 500, code: 'InternalError', always: true})
    try {
      const result = await viaEndpoint(proxy, name, ['--log-format', 'json'])
      assert.equal(result.code, 1, result.stderr)
      const first = keyOf(DAYS[0] as string, name)
      assert.match(
        result.stderr,
        new RegExp(
          `S3 failed: s3:PutObject on s3://${BUCKET}/${first} failed after 5 attempts \\(HTTP 500 InternalError: Injected InternalError\\)`,
        ),
      )
      assert.match(
        result.stderr,
        new RegExp(`Nothing was stored at s3://${BUCKET}/${first}; the next run collects the day again`),
      )
      assert.equal(proxy.requests.filter(r => r.key === first).length, 5)
      assert.deepEqual(await keysOf(name), [])

      proxy.clearFaults()
      const again = await viaEndpoint(proxy, name)
      assert.equal(again.code, 0, again.stderr)
      await assertWritten(name)
    } finally {
      await proxy.close()
    }
  })

  it('no answer every time: exit 1 reporting the timeout and --s3-timeout', async () => {
    const name = cluster('held always')
    const proxy = await S3Proxy.start({target: s3.endpoint})
    proxy.addFault('put', {kind: 'hold', always: true})
    try {
      // The listing before has five attempts of 0.5 s to answer in: no busy machine delays all five.
      const result = await viaEndpoint(proxy, name, ['--s3-timeout', '0.5'])
      assert.equal(result.code, 1, result.stderr)
      assert.ok(
        result.stderr.includes(`S3 at ${proxy.endpoint} did not answer in time: s3:PutObject on s3://`),
        result.stderr,
      )
      assert.match(
        result.stderr,
        /timed out after 5 attempts, each attempt waiting 0.5 s \(--s3-timeout \(S3_REQUEST_TIMEOUT\)\) \(TimeoutError/,
      )
      assert.ok(
        result.stderr.includes(`Check --s3-endpoint (S3_ENDPOINT_URL) "${proxy.endpoint}": that the store is up`),
      )
      assert.doesNotMatch(result.stderr, /VPC endpoint|NAT gateway/)
      assert.deepEqual(await keysOf(name), [])
    } finally {
      await proxy.close()
    }
  })

  it('an --s3-endpoint where nothing listens: exit 1 naming the endpoint and --s3-endpoint, not the network path to AWS', async () => {
    const endpoint = await refusedUrl()
    const result = await runCli(
      [
        'export',
        '--cluster-arn',
        arn(cluster('refused')),
        '--bucket',
        BUCKET,
        '--s3-endpoint',
        endpoint,
        '--kubecost-url',
        kubecost.url,
        '--backfill-days',
        '2',
        '--now',
        NOW,
      ],
      {...CREDENTIALS, AWS_REGION: 'us-east-1'},
    )
    assert.equal(result.code, 1, result.stderr)
    assert.ok(
      result.stderr.includes(`The connection to S3 at ${endpoint} failed: s3:ListBucket on s3://${BUCKET}/`),
      result.stderr,
    )
    assert.match(result.stderr, /failed after 5 attempts \(ECONNREFUSED: /)
    const host = new URL(endpoint).host
    assert.ok(
      result.stderr.includes(
        `Nothing accepts connections at ${host}: check the host and port in --s3-endpoint (S3_ENDPOINT_URL) "${endpoint}", and that the store is running.`,
      ),
      result.stderr,
    )
    assert.doesNotMatch(result.stderr, /VPC endpoint|NAT gateway/)
  })

  it('rejects a --s3-timeout that is not a positive number of seconds (exit 2, naming the flag and variable)', async () => {
    const result = await runCli(
      ['export', '--cluster-arn', arn('x'), '--bucket', BUCKET, '--kubecost-url', kubecost.url],
      {...CREDENTIALS, S3_REQUEST_TIMEOUT: '0'},
    )
    assert.equal(result.code, 2)
    assert.match(result.stderr, /Invalid --s3-timeout \(S3_REQUEST_TIMEOUT\) "0"/)
  })
})
