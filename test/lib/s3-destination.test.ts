import assert from 'node:assert/strict'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {mockClient} from 'aws-sdk-client-mock'

import {createS3Client} from '../../src/lib/aws/clients.js'
import {S3Destination} from '../../src/lib/aws/s3-destination.js'
import {AwsError, LocalIoError} from '../../src/lib/errors.js'
import {silentLogger} from '../../src/lib/log.js'
import {TEST_CREDENTIALS, startS3} from '../fakes/s3.js'
import {S3Proxy} from '../fakes/s3-proxy.js'
import {tempDir} from '../helpers.js'

const IDENTITY = 'role arn:aws:iam::111122223333:role/exporter (web identity, e.g. IRSA)'

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from S3`), {name, $metadata: {httpStatusCode: status}})
}

describe('S3Destination errors', () => {
  it('reports AccessDenied on PutObject with the action, the object and the identity in use', async () => {
    const s3 = mockClient(S3Client)
    s3.on(PutObjectCommand).rejects(sdkError('AccessDenied', 403))
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, 'PAR1')
      const destination = new S3Destination({
        bucket: 'data-bucket',
        region: 'us-east-1',
        client: async region => new S3Client({region}),
        identity: IDENTITY,
      })
      await assert.rejects(destination.put('account_id=1/x.snappy.parquet', file), (error: unknown) => {
        assert.ok(error instanceof AwsError)
        assert.equal(error.code, 'AWS_ACCESS_DENIED')
        assert.equal(error.exitCode, 1)
        assert.equal(
          error.message,
          `Access denied: s3:PutObject on s3://data-bucket/account_id=1/x.snappy.parquet as ${IDENTITY} (AccessDenied)`,
        )
        return true
      })
    } finally {
      s3.restore()
      await dir.remove()
    }
  })

  it('tells rejected credentials (also a 403) from a refusal, and a missing bucket from both', async () => {
    const s3 = mockClient(S3Client)
    const destination = new S3Destination({
      bucket: 'data-bucket',
      region: 'us-east-1',
      client: async region => new S3Client({region}),
      identity: IDENTITY,
    })
    try {
      s3.on(ListObjectsV2Command).rejects(sdkError('InvalidAccessKeyId', 403))
      await assert.rejects(
        destination.listKeys('p/'),
        (error: unknown) => error instanceof AwsError && error.code === 'AWS_CREDENTIALS',
      )
      s3.on(ListObjectsV2Command).rejects(sdkError('NoSuchBucket', 404))
      await assert.rejects(
        destination.listKeys('p/'),
        (error: unknown) =>
          error instanceof AwsError &&
          error.code === 'AWS_NOT_FOUND' &&
          /Bucket not found: s3:ListBucket on s3:\/\/data-bucket\/p\//.test(error.message),
      )
    } finally {
      s3.restore()
    }
  })

  it('lists every page', async () => {
    const s3 = mockClient(S3Client)
    s3.on(ListObjectsV2Command, {ContinuationToken: undefined}).resolves({
      Contents: [{Key: 'a'}],
      IsTruncated: true,
      NextContinuationToken: 't1',
    })
    s3.on(ListObjectsV2Command, {ContinuationToken: 't1'}).resolves({
      Contents: [{Key: 'b'}, {Key: 'c'}],
      IsTruncated: false,
    })
    try {
      const destination = new S3Destination({
        bucket: 'data-bucket',
        region: 'us-east-1',
        client: async region => new S3Client({region}),
      })
      assert.deepEqual(await destination.listKeys('p/'), ['a', 'b', 'c'])
    } finally {
      s3.restore()
    }
  })
})

describe('S3Destination over real HTTP (faulty proxy in front of s3rver)', () => {
  const BUCKET = 'abort-bucket'

  async function setUp() {
    const s3 = await startS3([BUCKET])
    const proxy = await S3Proxy.start({target: s3.endpoint})
    const lines: string[] = []
    const fields: Array<Record<string, unknown> | undefined> = []
    const logger = {
      ...silentLogger,
      warn: (m: string, f?: Record<string, unknown>) => {
        lines.push(`WARN ${m}`)
        fields.push(f)
      },
      info: (m: string) => lines.push(`INFO ${m}`),
    }
    const destination = new S3Destination({
      bucket: BUCKET,
      region: 'us-east-1',
      client: async (region, hooks) =>
        createS3Client({
          endpoint: proxy.endpoint,
          region,
          credentials: async () => TEST_CREDENTIALS,
          timeoutMs: 30_000,
          baseDelayMs: 10,
          ...hooks,
        }),
      logger,
      contentMd5: true,
      endpoint: proxy.endpoint,
    })
    return {
      s3,
      proxy,
      destination,
      lines,
      fields,
      async close() {
        await proxy.close()
        await s3.close()
      },
    }
  }

  it('aborts an upload in flight when the signal fires, and stores nothing', async () => {
    const {s3, proxy, destination, close} = await setUp()
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, Buffer.alloc(64 * 1024, 7))
      proxy.addFault('put', {kind: 'hold', always: true})
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 200)
      const started = Date.now()
      await assert.rejects(destination.put('p/day.parquet', file, {signal: controller.signal}), (error: unknown) => {
        assert.ok(error instanceof AwsError)
        assert.equal(error.code, 'AWS_ABORTED')
        assert.equal(error.exitCode, 1)
        assert.match(error.message, /^s3:PutObject on s3:\/\/abort-bucket\/p\/day\.parquet was aborted/)
        return true
      })
      // Well before the 30 s timeout (half of it, whatever the machine's load): the signal ended it.
      assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`)
      const listed = await s3.client.send(new ListObjectsV2Command({Bucket: BUCKET}))
      assert.deepEqual(listed.Contents ?? [], [])
    } finally {
      await dir.remove()
      await close()
    }
  })

  it('aborts a listing in flight when the signal fires', async () => {
    const {proxy, destination, close} = await setUp()
    try {
      proxy.addFault('list', {kind: 'hold', always: true})
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 200)
      await assert.rejects(
        destination.listKeys('p/', {signal: controller.signal}),
        (error: unknown) => error instanceof AwsError && error.code === 'AWS_ABORTED',
      )
    } finally {
      await close()
    }
  })

  it('logs each retry through the logger it is given: operation, key, reason, attempt and delay', async () => {
    const {s3, proxy, destination, lines, close} = await setUp()
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, Buffer.alloc(10_000, 3))
      proxy.addFault('put', {kind: 'status', status: 503, code: 'SlowDown'})
      await destination.put('p/day.parquet', file)
      assert.equal(lines.length, 1)
      assert.match(
        lines[0] as string,
        /^WARN S3 PutObject of s3:\/\/abort-bucket\/p\/day\.parquet failed \(HTTP 503 SlowDown\), attempt 1 of 5; retrying in \d+\.\d s$/,
      )
      const stored = await s3.client.send(new GetObjectCommand({Bucket: BUCKET, Key: 'p/day.parquet'}))
      assert.deepEqual(Buffer.from((await stored.Body?.transformToByteArray()) ?? []), await readFile(file))
    } finally {
      await dir.remove()
      await close()
    }
  })

  it("sends again after S3's 400 RequestTimeout and 500 InternalError", async () => {
    const {s3, proxy, destination, lines, close} = await setUp()
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, Buffer.alloc(5000, 9))
      proxy.addFault('put', {kind: 'status', status: 400, code: 'RequestTimeout'})
      proxy.addFault('put', {kind: 'status', status: 500, code: 'InternalError'})
      await destination.put('p/rt.parquet', file)
      assert.deepEqual(
        lines.map(l => /failed \((.*)\), attempt (\d)/.exec(l)?.slice(1)),
        [
          ['HTTP 400 RequestTimeout', '1'],
          ['HTTP 500 InternalError', '2'],
        ],
      )
      const stored = await s3.client.send(new GetObjectCommand({Bucket: BUCKET, Key: 'p/rt.parquet'}))
      assert.equal((await stored.Body?.transformToByteArray())?.length, 5000)
    } finally {
      await dir.remove()
      await close()
    }
  })

  it("a proxy's bare 429, every time: throttling from the endpoint, retried as such, without the SDK's parse noise", async () => {
    const {proxy, destination, lines, fields, close} = await setUp()
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, 'PAR1')
      proxy.addFault('put', {
        kind: 'page',
        status: 429,
        body: 'Too Many Requests',
        contentType: 'text/plain',
        always: true,
      })
      await assert.rejects(destination.put('p/day.parquet', file), (error: unknown) => {
        assert.ok(error instanceof AwsError)
        assert.equal(error.code, 'AWS_THROTTLED')
        assert.equal(
          error.message,
          `S3 is throttling requests: s3:PutObject on s3://${BUCKET}/p/day.parquet failed after 5 attempts (HTTP 429 from ${proxy.endpoint}, with no S3 error code: text/plain)`,
        )
        assert.equal(
          error.suggestions.at(-1),
          `The limit is set by the store or a proxy at ${proxy.endpoint}: if it happens every night, raise it there.`,
        )
        return true
      })
      assert.equal(proxy.requests.filter(r => r.operation === 'put').length, 5)
      assert.deepEqual(
        lines.map(l => /failed \((.*)\), attempt (\d)/.exec(l)?.slice(1)),
        [1, 2, 3, 4].map(n => ['HTTP 429', String(n)]),
      )
      assert.ok(fields.every(f => f?.throttling === true))
    } finally {
      await dir.remove()
      await close()
    }
  })

  for (const [status, body] of [
    [
      503,
      '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>',
    ],
    [502, '<html><body><h1>502 Bad Gateway</h1></body></html>'],
  ] as const) {
    it(`a proxy's HTML ${status} page, every time: a failure from the endpoint, retried, without the SDK's parse noise`, async () => {
      const {proxy, destination, lines, fields, close} = await setUp()
      try {
        proxy.addFault('list', {kind: 'page', status, body, contentType: 'text/html', always: true})
        await assert.rejects(destination.listKeys('p/'), (error: unknown) => {
          assert.ok(error instanceof AwsError)
          assert.equal(error.code, 'AWS_SERVER_ERROR')
          assert.equal(
            error.message,
            `S3 failed: s3:ListBucket on s3://${BUCKET}/p/ failed after 5 attempts (HTTP ${status} from ${proxy.endpoint}, with no S3 error code: text/html)`,
          )
          assert.deepEqual(error.suggestions, [
            `The page came from the store or a proxy at ${proxy.endpoint}: check its health and logs.`,
          ])
          return true
        })
        assert.equal(proxy.requests.filter(r => r.operation === 'list').length, 5)
        assert.deepEqual(
          lines.map(l => /failed \((.*)\), attempt/.exec(l)?.[1]),
          [1, 2, 3, 4].map(() => `HTTP ${status}`),
        )
        assert.ok(fields.every(f => f?.throttling === false))
      } finally {
        await close()
      }
    })
  }

  it('does not retry an error that will not pass (403): one attempt, classified as access denied', async () => {
    const {proxy, destination, lines, close} = await setUp()
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, 'PAR1')
      proxy.addFault('put', {kind: 'status', status: 403, code: 'AccessDenied', always: true})
      await assert.rejects(
        destination.put('p/day.parquet', file),
        (error: unknown) => error instanceof AwsError && error.code === 'AWS_ACCESS_DENIED',
      )
      assert.equal(proxy.requests.filter(r => r.operation === 'put').length, 1)
      assert.deepEqual(lines, [])
    } finally {
      await dir.remove()
      await close()
    }
  })

  it('reports a day file that cannot be read as a local I/O error naming it and the upload target', async () => {
    const {destination, close} = await setUp()
    try {
      await assert.rejects(
        destination.put('p/x.parquet', '/nonexistent/day.parquet'),
        (error: unknown) =>
          error instanceof LocalIoError &&
          error.errno === 'ENOENT' &&
          /Could not read \/nonexistent\/day\.parquet to upload it to s3:\/\/abort-bucket\/p\/x\.parquet \(ENOENT/.test(
            error.message,
          ) &&
          /TMPDIR/.test(error.suggestions.join(' ')),
      )
    } finally {
      await close()
    }
  })
})
