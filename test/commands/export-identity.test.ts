/** Role chaining, the CA from Secrets Manager, JSON logs, and that no secret ever reaches the output. */
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ListObjectsV2Command} from '@aws-sdk/client-s3'

import {AwsFake} from '../fakes/aws-services.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {type S3Fake, startS3} from '../fakes/s3.js'
import {runCli} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const PARENT = 'arn:aws:iam::999988887777:role/kubecost-data-collector'
const NOW = '2026-03-05T10:30:00Z'
const DAYS = ['2026-02-28', '2026-03-01', '2026-03-02']
const BUCKET = 'chained-bucket'
const TLS_DIR = new URL('../fixtures/tls/', import.meta.url).pathname

describe('export with role chaining and a CA from Secrets Manager', () => {
  let s3: S3Fake
  let kubecost: FakeKubecost
  let ca: string

  before(async () => {
    s3 = await startS3([BUCKET])
    ca = await readFile(join(TLS_DIR, 'ca.pem'), 'utf8')
    kubecost = await FakeKubecost.start({
      cluster: 'prod',
      days: DAYS,
      containersPerDay: 3,
      tls: {
        key: await readFile(join(TLS_DIR, 'server.key'), 'utf8'),
        cert: await readFile(join(TLS_DIR, 'server.pem'), 'utf8'),
      },
    })
  })
  after(async () => {
    await kubecost.close()
    await s3.close()
  })

  const args = (extra: string[] = []) => [
    'export',
    '--cluster-arn',
    ARN,
    '--bucket',
    BUCKET,
    '--s3-endpoint',
    s3.endpoint,
    '--kubecost-url',
    kubecost.url,
    '--backfill-days',
    '3',
    '--now',
    NOW,
    '--ca-cert-secret',
    'kubecost/ca',
    ...extra,
  ]

  it('assumes the parent role as kubecost-s3-exporter, fetches the CA with it, and assumes again as the session nears expiry', async () => {
    // Sessions that expire within the refresh margin: every use must assume the role again.
    const aws = await AwsFake.start({secrets: {'kubecost/ca': ca}, lifetimeMs: 4 * 60_000})
    try {
      const result = await runCli(args(['--log-format', 'json']), {
        ...s3.env,
        ...aws.env,
        IRSA_PARENT_IAM_ROLE_ARN: PARENT,
      })
      assert.equal(result.code, 0, result.stderr)
      const listing = await s3.client.send(new ListObjectsV2Command({Bucket: BUCKET}))
      assert.equal(listing.KeyCount, 3)

      const assumed = aws.assumeRoleCalls()
      assert.ok(assumed.length >= 4, `AssumeRole called ${assumed.length} times`)
      for (const call of assumed) {
        assert.equal(call.params.RoleArn, PARENT)
        assert.equal(call.params.RoleSessionName, 'kubecost-s3-exporter')
        assert.equal(call.sessionToken, undefined, 'AssumeRole is called with the base credentials')
      }

      const secretCall = aws.requests.find(r => r.service === 'secretsmanager')
      assert.equal(secretCall?.params.SecretId, 'kubecost/ca')
      assert.match(secretCall?.sessionToken ?? '', /^session-\d+$/, 'the secret is read as the parent role')

      // No credential, token or CA body in any line, in JSON or text form.
      const output = result.stdout + result.stderr
      for (const secret of ['S3RVER', 'session-1', 'BEGIN CERTIFICATE', ca.split('\n')[1] as string]) {
        assert.ok(!output.includes(secret), `output contains ${secret}`)
      }

      for (const line of result.stderr.trim().split('\n')) {
        const entry = JSON.parse(line) as Record<string, unknown>
        assert.equal(typeof entry.time, 'string')
        assert.equal(entry.logger, 'kubecost-s3-exporter')
        assert.ok(['INFO', 'WARNING', 'ERROR'].includes(entry.level as string))
      }

      const written = result.stderr
        .trim()
        .split('\n')
        .map(l => JSON.parse(l) as Record<string, unknown>)
        .filter(e => String(e.message).startsWith('Wrote'))
      assert.deepEqual(
        written.map(e => e.day),
        DAYS,
      )
      assert.ok(written.every(e => typeof e.rows === 'number' && String(e.key).endsWith('_prod.snappy.parquet')))
    } finally {
      await aws.close()
    }
  })

  it('uses the session until it nears expiry', async () => {
    const aws = await AwsFake.start({secrets: {'kubecost/ca': ca}, lifetimeMs: 3_600_000})
    try {
      const result = await runCli(args(['--prefix', 'long-lived']), {
        ...s3.env,
        ...aws.env,
        IRSA_PARENT_IAM_ROLE_ARN: PARENT,
      })
      assert.equal(result.code, 0, result.stderr)
      assert.equal(aws.assumeRoleCalls().length, 1)
    } finally {
      await aws.close()
    }
  })

  it('reports AccessDenied on AssumeRole with the action and the role, exit 1', async () => {
    const aws = await AwsFake.start({secrets: {'kubecost/ca': ca}, denyRoles: [PARENT]})
    try {
      const result = await runCli(args(), {...s3.env, ...aws.env, IRSA_PARENT_IAM_ROLE_ARN: PARENT})
      assert.equal(result.code, 1)
      assert.match(
        result.stderr,
        /Access denied: sts:AssumeRole on arn:aws:iam::999988887777:role\/kubecost-data-collector as the access key in AWS_ACCESS_KEY_ID/,
      )
      assert.match(result.stderr, /trust policy/)
    } finally {
      await aws.close()
    }
  })

  it('reports a missing secret with the action and the secret, exit 1', async () => {
    const aws = await AwsFake.start({secrets: {}})
    try {
      const result = await runCli(args(), {...s3.env, ...aws.env})
      assert.equal(result.code, 1)
      assert.match(
        result.stderr,
        /Not found: secretsmanager:GetSecretValue on secret kubecost\/ca failed \(ResourceNotFoundException/,
      )
    } finally {
      await aws.close()
    }
  })

  it('refuses a secret that holds no PEM certificate, exit 2, without printing it', async () => {
    const aws = await AwsFake.start({secrets: {'kubecost/ca': '{"cert":"hunter2"}'}})
    try {
      const result = await runCli(args(), {...s3.env, ...aws.env})
      assert.equal(result.code, 2)
      assert.match(
        result.stderr,
        /Invalid --ca-cert-secret \(KUBECOST_CA_CERTIFICATE_SECRET_NAME\) "kubecost\/ca": the secret's SecretString holds no PEM certificate/,
      )
      assert.ok(!result.stderr.includes('hunter2'))
    } finally {
      await aws.close()
    }
  })

  it('refuses a malformed parent role ARN, exit 2', async () => {
    const result = await runCli(args(), {...s3.env, IRSA_PARENT_IAM_ROLE_ARN: 'arn:aws:iam::123:user/bob'})
    assert.equal(result.code, 2)
    assert.match(
      result.stderr,
      /Invalid --parent-role-arn \(IRSA_PARENT_IAM_ROLE_ARN\) "arn:aws:iam::123:user\/bob": not an IAM role ARN/,
    )
  })
})

describe('JSON logs for failures', () => {
  it('logs retries with their attempt and delay, and the final error as a JSON line', async () => {
    const kubecost = await FakeKubecost.start({cluster: 'prod', days: DAYS})
    kubecost.addFault({kind: 'status', status: 502, api: 'availability'})
    try {
      const result = await runCli(
        [
          'export',
          '--cluster-arn',
          ARN,
          '--output-dir',
          '/tmp/never-written',
          '--kubecost-url',
          kubecost.url,
          '--now',
          NOW,
          '--retries',
          '1',
          '--retry-delay',
          '0.01',
        ],
        {LOG_FORMAT: 'json'},
      )
      assert.equal(result.code, 1)
      const entries = result.stderr
        .trim()
        .split('\n')
        .map(l => JSON.parse(l) as Record<string, unknown>)
      const retry = entries.find(e => String(e.message).startsWith('Retrying'))
      assert.equal(retry?.level, 'WARNING')
      assert.equal(retry?.attempt, 2)
      assert.equal(typeof retry?.delayMs, 'number')
      const last = entries.at(-1)
      assert.equal(last?.level, 'ERROR')
      assert.equal(last?.code, 'KUBECOST_HTTP_STATUS')
      assert.match(String(last?.message), /HTTP 502/)
    } finally {
      await kubecost.close()
    }
  })
})
