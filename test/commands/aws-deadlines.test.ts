/**
 * No AWS call can hang a run: against endpoints that accept requests and never answer (STS, Secrets
 * Manager, Glue, QuickSight, S3), every command fails with exit 1, naming the service, the call, what
 * it was on and the setting to raise, within a bound set by the command's own settings. Bounds are
 * short settings checked against generous limits: the machine may be busy.
 */
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, afterEach, before, beforeEach, describe, it} from 'node:test'

import {AwsFake} from '../fakes/aws-services.js'
import {StallingEndpoint} from '../fakes/http.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {type S3Fake, TEST_ENV, startS3} from '../fakes/s3.js'
import {type CliResult, runCli, tempDir} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const PARENT = 'arn:aws:iam::999988887777:role/kubecost-data-collector'
const IRSA_ROLE = 'arn:aws:iam::111122223333:role/kubecost-s3-exporter'
const NOW = '2026-03-05T10:30:00Z'
const BUCKET = 'deadline-bucket'

/** The CLI's result and how long it ran. */
async function timedCli(args: string[], env: Record<string, string>): Promise<CliResult & {ms: number}> {
  const started = Date.now()
  const result = await runCli(args, env)
  return {...result, ms: Date.now() - started}
}

describe('export: STS and Secrets Manager calls that never answer', () => {
  let s3: S3Fake
  let kubecost: FakeKubecost
  let stalled: StallingEndpoint
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    s3 = await startS3([BUCKET])
    kubecost = await FakeKubecost.start({cluster: 'prod', days: ['2026-03-02'], containersPerDay: 2})
    dir = await tempDir()
  })
  after(async () => {
    await kubecost.close()
    await s3.close()
    await dir.remove()
  })
  beforeEach(async () => {
    stalled = await StallingEndpoint.start()
  })
  afterEach(() => stalled.close())

  const exportArgs = (extra: string[]) => [
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
    '1',
    '--now',
    NOW,
    ...extra,
  ]

  it('--parent-role-arn: a stalled AssumeRole times out each attempt, is sent again, and fails the run naming the role and --aws-timeout', async () => {
    const result = await timedCli(exportArgs(['--parent-role-arn', PARENT, '--aws-timeout', '0.3']), {
      ...s3.env,
      AWS_ENDPOINT_URL_STS: stalled.endpoint,
    })
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      /STS did not answer in time: sts:AssumeRole on arn:aws:iam::999988887777:role\/kubecost-data-collector timed out after 3 attempts, each attempt waiting 0\.3 s \(--aws-timeout \(AWS_REQUEST_TIMEOUT\)\)/,
    )
    assert.match(
      result.stderr,
      /Try: If the calls are slow but progressing, raise --aws-timeout \(AWS_REQUEST_TIMEOUT\)/,
    )
    // Each attempt reached the endpoint: a retry is really sent again.
    assert.equal(stalled.requests.length, 3)
    assert.ok(stalled.requests.every(r => r.body.includes('Action=AssumeRole')))
    assert.ok(result.ms < 30_000, `ran ${result.ms} ms`)
  })

  it('--ca-cert-secret: a stalled GetSecretValue ends at --aws-deadline, naming the secret', async () => {
    const result = await timedCli(exportArgs(['--ca-cert-secret', 'kubecost/ca', '--aws-deadline', '1']), {
      ...s3.env,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stalled.endpoint,
    })
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      /^Error: Secrets Manager did not answer secretsmanager:GetSecretValue on secret kubecost\/ca before the 1 s of --aws-deadline \(AWS_CALL_DEADLINE\) passed$/m,
    )
    assert.equal(stalled.requests[0]?.target, 'secretsmanager.GetSecretValue')
    assert.ok(result.ms < 30_000, `ran ${result.ms} ms`)
  })

  it('--run-deadline cuts off a stalled call even when its own bounds are far longer', async () => {
    const result = await timedCli(
      exportArgs([
        '--ca-cert-secret',
        'kubecost/ca',
        '--run-deadline',
        '1',
        '--aws-timeout',
        '60',
        '--aws-deadline',
        '600',
      ]),
      {...s3.env, AWS_ENDPOINT_URL_SECRETS_MANAGER: stalled.endpoint},
    )
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      /^Error: Secrets Manager did not answer secretsmanager:GetSecretValue on secret kubecost\/ca before the 1 s of --run-deadline \(RUN_DEADLINE\) passed$/m,
    )
    assert.match(result.stderr, /Try: If Secrets Manager is slow but answering, raise --run-deadline \(RUN_DEADLINE\)/)
    assert.ok(result.ms < 30_000, `ran ${result.ms} ms`)
  })

  it('IRSA: a stalled AssumeRoleWithWebIdentity fails the run naming the role and the token, not hanging it', async () => {
    const token = join(dir.path, 'token')
    await writeFile(token, 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl')
    const irsa = {AWS_REGION: 'us-east-1', AWS_ROLE_ARN: IRSA_ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: token}
    const result = await timedCli(exportArgs(['--aws-timeout', '0.3']), {
      ...irsa,
      AWS_ENDPOINT_URL_STS: stalled.endpoint,
    })
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      /STS did not answer in time: sts:AssumeRoleWithWebIdentity on arn:aws:iam::111122223333:role\/kubecost-s3-exporter timed out after 3 attempts, each attempt waiting 0\.3 s \(--aws-timeout \(AWS_REQUEST_TIMEOUT\)\)/,
    )
    assert.ok(
      stalled.requests.length === 3 && stalled.requests.every(r => r.body.includes('AssumeRoleWithWebIdentity')),
    )
    assert.ok(result.ms < 30_000, `ran ${result.ms} ms`)

    // The same chain against an STS that answers: the web identity's credentials write the day.
    const sts = await AwsFake.start()
    try {
      const ok = await runCli(exportArgs(['--prefix', 'irsa']), {...irsa, AWS_ENDPOINT_URL_STS: sts.endpoint})
      assert.equal(ok.code, 0, ok.stderr)
      assert.match(ok.stderr, /Wrote \d+ rows for 2026-03-02/)
      const [call] = sts.assumeRoleCalls('AssumeRoleWithWebIdentity')
      assert.equal(call?.params.RoleArn, IRSA_ROLE)
      assert.equal(call?.params.WebIdentityToken, 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl')
    } finally {
      await sts.close()
    }
  })
})

describe('operator commands against services that never answer', () => {
  let stalled: StallingEndpoint
  beforeEach(async () => {
    stalled = await StallingEndpoint.start()
  })
  afterEach(() => stalled.close())

  it('deploy-glue: a stalled Glue call times out, is retried, and fails naming the call and --aws-timeout', async () => {
    const s3 = await startS3([BUCKET])
    try {
      const result = await timedCli(
        ['deploy-glue', '--bucket', BUCKET, '--s3-endpoint', s3.endpoint, '--aws-timeout', '0.3'],
        {...TEST_ENV, AWS_ENDPOINT_URL_GLUE: stalled.endpoint, AWS_ENDPOINT_URL_ATHENA: stalled.endpoint},
      )
      assert.equal(result.code, 1, result.stderr)
      assert.match(
        result.stderr,
        /^Error: Glue did not answer in time: glue:GetDatabase on database kubecost_db timed out after 5 attempts, each attempt waiting 0\.3 s \(--aws-timeout \(AWS_REQUEST_TIMEOUT\)\)/m,
      )
      assert.equal(stalled.requests.filter(r => r.target === 'AWSGlue.GetDatabase').length, 5)
      assert.ok(result.ms < 30_000, `ran ${result.ms} ms`)
    } finally {
      await s3.close()
    }
  })

  it('crawl --timeout bounds a stalled Glue call, however long an attempt may wait', async () => {
    const result = await timedCli(['crawl', '--timeout', '1'], {...TEST_ENV, AWS_ENDPOINT_URL_GLUE: stalled.endpoint})
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      /^Error: Glue did not answer glue:GetCrawler on crawler kubecost_crawler before the 1 s of --timeout \(CRAWL_TIMEOUT\) passed$/m,
    )
    assert.match(result.stderr, /Try: If Glue is slow but answering, raise --timeout \(CRAWL_TIMEOUT\)/)
    // Without the bound, the first attempt alone would wait the default 30 s of --aws-timeout.
    assert.ok(result.ms < 25_000, `ran ${result.ms} ms`)
  })

  it('refresh-dataset --timeout bounds a stalled STS call; a stalled QuickSight call times out naming the dataset', async () => {
    const sts = await timedCli(['refresh-dataset', '--timeout', '1'], {
      ...TEST_ENV,
      AWS_ENDPOINT_URL_STS: stalled.endpoint,
    })
    assert.equal(sts.code, 1, sts.stderr)
    assert.match(
      sts.stderr,
      /^Error: STS did not answer sts:GetCallerIdentity on the caller identity before the 1 s of --timeout \(REFRESH_TIMEOUT\) passed$/m,
    )
    assert.ok(sts.ms < 25_000, `ran ${sts.ms} ms`)

    const quicksight = await timedCli(['refresh-dataset', '--account-id', '111122223333', '--aws-timeout', '0.3'], {
      ...TEST_ENV,
      AWS_ENDPOINT_URL_QUICKSIGHT: stalled.endpoint,
    })
    assert.equal(quicksight.code, 1, quicksight.stderr)
    assert.match(
      quicksight.stderr,
      /^Error: QuickSight did not answer in time: quicksight:DescribeDataSet on arn:aws:quicksight:us-east-1:111122223333:dataset\/e88edf48-f2cd-4c23-b6a4-e2b3034e2c41 timed out after 3 attempts, each attempt waiting 0\.3 s \(--aws-timeout \(AWS_REQUEST_TIMEOUT\)\)/m,
    )
    assert.ok(quicksight.ms < 30_000, `ran ${quicksight.ms} ms`)
  })

  it('verify-bucket-policy: a stalled S3 read fails naming the bucket and --aws-timeout', async () => {
    const result = await timedCli(
      [
        'verify-bucket-policy',
        '--bucket',
        BUCKET,
        '--bucket-admin-role',
        'arn:aws:iam::111122223333:role/bucket-admin',
        '--s3-endpoint',
        stalled.endpoint,
        '--aws-timeout',
        '0.3',
      ],
      TEST_ENV,
    )
    assert.equal(result.code, 1, result.stderr)
    assert.ok(
      new RegExp(
        `^Error: S3 at ${stalled.endpoint} did not answer in time: s3:Get\\w+ on s3://deadline-bucket timed out after 5 attempts, each attempt waiting 0\\.3 s \\(--aws-timeout \\(AWS_REQUEST_TIMEOUT\\)\\)`,
        'm',
      ).test(result.stderr),
      result.stderr,
    )
    assert.match(result.stderr, /^Try: Check --s3-endpoint \(S3_ENDPOINT_URL\) "http:\/\/127\.0\.0\.1:\d+": /m)
    assert.ok(result.ms < 30_000, `ran ${result.ms} ms`)
  })
})
