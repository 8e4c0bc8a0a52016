import assert from 'node:assert/strict'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3'

import {type S3SettingsFake, settingXml, startS3WithSettings} from '../fakes/s3-bucket-settings.js'
import {refusedUrl, runCli, tempDir} from '../helpers.js'

const ORIGINAL = fileURLToPath(new URL('../fixtures/policies/original-single-statement.json', import.meta.url))
const OLD_RECOMMENDED = fileURLToPath(new URL('../fixtures/policies/previous-recommended.json', import.meta.url))
const BUCKET = 'kubecost-data-collection-bucket'
const ADMIN = 'arn:aws:iam::111122223333:role/bucket-admin'
const CRAWLER = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'
const ROLES = ['--bucket-admin-role', ADMIN, '--crawler-role-arn', CRAWLER]

interface CheckJson {
  id: string
  title: string
  status: string
  reason: string
  fix?: string
  details: string[]
}
interface ReportJson {
  bucket: string
  source: {kind: string; path?: string}
  verdict: string
  counts: Record<string, number>
  checks: CheckJson[]
}

/** The report of a --json run: on its own when every check passed, beside the error when the run failed. */
function reportOf(result: {code: number; stdout: string}): ReportJson {
  const body = JSON.parse(result.stdout) as ReportJson | {error: {code: string}; result: ReportJson}
  if (result.code === 0) return body as ReportJson
  assert.ok('error' in body, result.stdout)
  return body.result
}

const statusOf = (report: ReportJson) => Object.fromEntries(report.checks.map(c => [c.id, c.status]))
const verify = (args: string[], env: Record<string, string> = {}) =>
  runCli(['verify-bucket-policy', '--bucket', BUCKET, ...ROLES, ...args], env)

describe('verify-bucket-policy with --policy-file', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let recommendedFile: string

  before(async () => {
    dir = await tempDir()
    recommendedFile = join(dir.path, 'recommended.json')
  })
  after(() => dir.remove())

  it('fails the original single-statement sample on HTTP and TLS, explaining the AND, exit 1', async () => {
    const result = await verify(['--policy-file', ORIGINAL])
    assert.equal(result.code, 1, result.stderr)
    const lines = result.stdout.split('\n')
    assert.match(lines[0] ?? '', /^STATUS {3}CHECK {16}REASON$/)
    assert.match(
      lines[1] ?? '',
      /^FAIL {5}https-only {11}the deny conditions are in one statement \(#1\) and IAM ANDs them, so it denies only a request that is at once over plain HTTP, .* and on TLS older than 1\.2/,
    )
    assert.match(
      lines[2] ?? '',
      /^FAIL {5}tls-1\.2 {14}the deny conditions are in one statement \(#1\) and IAM ANDs them/,
    )
    assert.match(lines[3] ?? '', /^FAIL {5}expected-principals/)
    assert.match(lines[4] ?? '', /^PASS {5}no-public-allow/)
    assert.match(lines[5] ?? '', /^PASS {5}policy-size {10}\d+ of the 20480 bytes S3 accepts/)
    assert.match(lines[6] ?? '', /^SKIPPED {2}default-encryption {3}a policy file was analysed/)
    assert.match(
      result.stdout,
      /\nFixes:\n {2}https-only: Add a statement of its own: .*"Bool": \{"aws:SecureTransport": "false"\}/,
    )
    assert.match(
      result.stdout,
      new RegExp(
        `\\nVerdict: FAIL for bucket ${BUCKET} \\(policy file .*original-single-statement\\.json\\): 2 passed, 3 failed, 0 warned, 3 skipped\\n$`,
      ),
    )
    assert.match(
      result.stderr,
      /Error: 3 of 8 checks failed for bucket kubecost-data-collection-bucket: https-only, tls-1\.2, expected-principals/,
    )
  })

  it('gives the checks as objects with --json, still exit 1', async () => {
    const result = await verify(['--policy-file', ORIGINAL, '--json'])
    assert.equal(result.code, 1, result.stderr)
    const report = reportOf(result)
    assert.equal(report.bucket, BUCKET)
    assert.deepEqual(report.source, {kind: 'file', path: ORIGINAL})
    assert.equal(report.verdict, 'fail')
    assert.deepEqual(statusOf(report), {
      'https-only': 'fail',
      'tls-1.2': 'fail',
      'expected-principals': 'fail',
      'no-public-allow': 'pass',
      'policy-size': 'pass',
      'default-encryption': 'skipped',
      'public-access-block': 'skipped',
      'object-ownership': 'skipped',
    })
    const https = report.checks[0]
    assert.equal(https?.title, 'plain HTTP denied')
    assert.match(https?.reason ?? '', /IAM ANDs them/)
    assert.ok(https?.fix)
    assert.ok((https?.details.length ?? 0) > 0)
    assert.equal(report.checks[3]?.fix, undefined)
  })

  it('prints a recommended policy that is valid JSON and that the analyzer passes', async () => {
    const printed = await verify(['--print-recommended'])
    assert.equal(printed.code, 0, printed.stderr)
    const policy = JSON.parse(printed.stdout) as {Statement: Array<{Sid: string}>}
    assert.deepEqual(
      policy.Statement.map(s => s.Sid),
      ['DenyPlainHttp', 'DenyTlsOlderThan12', 'DenyOutsideKubecostPipeline', 'DenyOtherAccountsUnlessNamed'],
    )
    await writeFile(recommendedFile, printed.stdout)

    const checked = await verify(['--policy-file', recommendedFile])
    assert.equal(checked.code, 0, checked.stderr)
    assert.match(checked.stdout, /^PASS {5}https-only/m)
    assert.doesNotMatch(checked.stdout, /Fixes:/)
    assert.match(checked.stdout, /Verdict: PASS for bucket .*: 5 passed, 0 failed, 0 warned, 3 skipped\n$/)

    const json = JSON.parse((await verify(['--policy-file', recommendedFile, '--json'])).stdout) as ReportJson
    assert.deepEqual(json.counts, {pass: 5, fail: 0, warn: 0, skipped: 3})
  })

  it('prints the same policy object under --json', async () => {
    const plain = JSON.parse((await verify(['--print-recommended'])).stdout) as unknown
    const json = await verify(['--print-recommended', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout), plain)
  })

  describe('exits 2 for a file that is not a policy, saying where', () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'invalid JSON',
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Deny",}\n  ]\n}\n',
        /is not valid JSON: line 4, column 23 \(Statement\[0\]\): expected a double-quoted property name, found "}"/,
      ],
      [
        'a duplicated operator',
        '{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"a": "1"}, "Bool": {"b": "2"}}}]}',
        /is ambiguous JSON: line 1, column 122 \(Statement\[0\]\.Condition\): "Bool" appears twice in the same object/,
      ],
      [
        'a bad Effect',
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [{Effect: 'Permit', Principal: '*', Action: 's3:*', Resource: '*'}],
        }),
        /is not a bucket policy: Statement\[0\]\.Effect: must be "Allow" or "Deny", got string "Permit"/,
      ],
      ['a JSON list', '[{"Effect": "Deny"}]', /is not a bucket policy: \(top level\): must be an object/],
    ]
    for (const [what, text, pattern] of cases) {
      it(what, async () => {
        const file = join(dir.path, `${what.replaceAll(' ', '-')}.json`)
        await writeFile(file, text)
        const result = await verify(['--policy-file', file])
        assert.equal(result.code, 2, result.stderr)
        assert.equal(result.stdout, '')
        assert.match(
          result.stderr,
          new RegExp(`Error: --policy-file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${pattern.source}`),
        )
      })
    }

    it('a file that does not exist', async () => {
      const result = await verify(['--policy-file', join(dir.path, 'missing.json')])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /Error: Cannot read --policy-file .*missing\.json: ENOENT/)
    })

    it('with --json, as an error object', async () => {
      const file = join(dir.path, 'broken.json')
      await writeFile(file, '{"Version": ')
      const result = await verify(['--policy-file', file, '--json'])
      assert.equal(result.code, 2)
      const {error} = JSON.parse(result.stdout) as {error: {code: string; message: string}}
      assert.equal(error.code, 'POLICY_DOCUMENT')
      assert.match(error.message, /line 1, column 13 \(Version\): expected a value, found end of input/)
    })
  })

  describe('exits 2 on bad usage', () => {
    const cases: Array<[string, string[], RegExp]> = [
      [
        'no expected principals',
        ['verify-bucket-policy', '--bucket', BUCKET, '--policy-file', ORIGINAL],
        /No expected principals given/,
      ],
      [
        'no bucket',
        ['verify-bucket-policy', ...ROLES, '--policy-file', ORIGINAL],
        /^Error: Missing required flag --bucket \(S3_BUCKET_NAME\)$/m,
      ],
      [
        'a bad bucket name',
        ['verify-bucket-policy', '--bucket', 'Bad_Bucket', ...ROLES],
        /Invalid --bucket \(S3_BUCKET_NAME\) "Bad_Bucket"/,
      ],
      [
        'a crawler ARN that is not a role',
        ['verify-bucket-policy', '--bucket', BUCKET, '--crawler-role-arn', 'arn:aws:s3:::x'],
        /Invalid --crawler-role-arn \(CRAWLER_ROLE_ARN\) "arn:aws:s3:::x": not an IAM role ARN/,
      ],
      [
        'a bad exporter tag',
        ['verify-bucket-policy', '--bucket', BUCKET, ...ROLES, '--exporter-tag', 'justakey'],
        /Invalid --exporter-tag \(EXPORTER_TAG\) "justakey": must be KEY=VALUE/,
      ],
      [
        '--print-recommended with --policy-file',
        ['verify-bucket-policy', '--bucket', BUCKET, ...ROLES, '--print-recommended', '--policy-file', ORIGINAL],
        /cannot also be provided/,
      ],
    ]
    for (const [what, args, pattern] of cases) {
      it(what, async () => {
        const result = await runCli(args)
        assert.equal(result.code, 2, result.stderr)
        assert.match(result.stderr, pattern)
      })
    }
  })
})

describe('verify-bucket-policy against a bucket (s3rver with the settings handler)', () => {
  let fake: S3SettingsFake
  const live = (args: string[] = []) => verify(['--s3-endpoint', fake.endpoint, ...args], fake.env)
  const liveJson = async (bucket = BUCKET) => {
    const result = await runCli(
      ['verify-bucket-policy', '--bucket', bucket, ...ROLES, '--s3-endpoint', fake.endpoint, '--json'],
      fake.env,
    )
    return {code: result.code, report: reportOf(result), stderr: result.stderr}
  }

  before(async () => {
    fake = await startS3WithSettings([BUCKET, 'bare-bucket', 'open-bucket'])
  })
  after(() => fake.close())

  it('passes every check for the recommended policy, SSE-KMS, a full public access block and BucketOwnerEnforced', async () => {
    const Bucket = BUCKET
    const policy = await verify(['--print-recommended'])
    await fake.client.send(new PutBucketPolicyCommand({Bucket, Policy: policy.stdout}))
    await fake.client.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms'}, BucketKeyEnabled: true}],
        },
      }),
    )
    await fake.client.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      }),
    )
    await fake.client.send(
      new PutBucketOwnershipControlsCommand({
        Bucket,
        OwnershipControls: {Rules: [{ObjectOwnership: 'BucketOwnerEnforced'}]},
      }),
    )

    const result = await live()
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout.split('\n').filter(l => l.startsWith('PASS ')).length, 8)
    assert.match(
      result.stdout,
      /^PASS +default-encryption +default encryption is SSE-KMS \(aws:kms, AWS managed key\)$/m,
    )
    assert.match(
      result.stdout,
      /Verdict: PASS for bucket kubecost-data-collection-bucket \(live bucket settings\): 8 passed, 0 failed, 0 warned, 0 skipped\n$/,
    )
    for (const setting of ['policy', 'encryption', 'publicAccessBlock', 'ownershipControls'])
      assert.ok(fake.requests.includes(`GET ${BUCKET}?${setting}`), setting)
  })

  it('reports a bucket with nothing configured: no policy, no encryption, no public access block, ACLs on', async () => {
    const {code, report} = await liveJson('bare-bucket')
    assert.equal(code, 1)
    assert.deepEqual(report.source, {kind: 'bucket'})
    assert.deepEqual(statusOf(report), {
      'https-only': 'fail',
      'tls-1.2': 'fail',
      'expected-principals': 'fail',
      'no-public-allow': 'pass',
      'policy-size': 'pass',
      'default-encryption': 'fail',
      'public-access-block': 'fail',
      'object-ownership': 'warn',
    })
    const reason = (id: string) => report.checks.find(c => c.id === id)?.reason
    assert.equal(reason('https-only'), 'the bucket has no policy, so nothing denies plain-HTTP requests')
    assert.equal(reason('default-encryption'), 'the bucket has no default encryption configuration')
    assert.equal(
      reason('public-access-block'),
      'the bucket has no public access block configuration (an account-level block is not checked)',
    )
    assert.match(reason('object-ownership') ?? '', /no ownership controls, so ACLs are enabled/)
  })

  it('reports public access left open: a public Allow and the public access block off', async () => {
    const Bucket = 'open-bucket'
    const recommended = JSON.parse(
      (await runCli(['verify-bucket-policy', '--bucket', Bucket, ...ROLES, '--print-recommended'])).stdout,
    ) as {Statement: object[]}
    recommended.Statement.push({
      Sid: 'PublicRead',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${Bucket}/*`,
    })
    await fake.client.send(new PutBucketPolicyCommand({Bucket, Policy: JSON.stringify(recommended)}))
    fake.set(Bucket, 'encryption', settingXml.encryption('AES256'))
    fake.set(
      Bucket,
      'publicAccessBlock',
      settingXml.publicAccessBlock({
        BlockPublicAcls: false,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: false,
      }),
    )
    fake.set(Bucket, 'ownershipControls', settingXml.ownershipControls('ObjectWriter'))

    const {code, report} = await liveJson(Bucket)
    assert.equal(code, 1)
    const byId = Object.fromEntries(report.checks.map(c => [c.id, c]))
    assert.equal(byId['no-public-allow']?.status, 'fail')
    assert.match(
      byId['no-public-allow']?.reason ?? '',
      /statement "PublicRead" \(#5\) allows Principal "\*" and it has no condition/,
    )
    assert.equal(byId['public-access-block']?.status, 'fail')
    assert.equal(
      byId['public-access-block']?.reason,
      'BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are off',
    )
    assert.match(byId['public-access-block']?.fix ?? '', /put-public-access-block --bucket open-bucket/)
    assert.equal(byId['default-encryption']?.status, 'pass')
    assert.equal(byId['object-ownership']?.status, 'warn')
    // The recommended Denies still hold: the public Allow does not open plain HTTP.
    assert.equal(byId['https-only']?.status, 'pass')
  })

  it('warns about settings it may not read, and fails on nothing it could not see', async () => {
    fake.denyRead('bare-bucket', 'policy')
    const {code, report} = await liveJson('bare-bucket')
    assert.equal(code, 1) // still no encryption and no public access block
    assert.equal(report.checks[0]?.status, 'warn')
    assert.match(
      report.checks[0]?.reason ?? '',
      /cannot read the bucket policy: s3:GetBucketPolicy was denied \(AccessDenied\)/,
    )
  })

  it('exits 1 naming the bucket when it does not exist', async () => {
    const result = await runCli(
      ['verify-bucket-policy', '--bucket', 'no-such-bucket', ...ROLES, '--s3-endpoint', fake.endpoint],
      fake.env,
    )
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    // The four settings are read at once; whichever answers first names its action.
    assert.match(result.stderr, /^Error: Bucket not found: s3:Get\w+ on s3:\/\/no-such-bucket failed \(NoSuchBucket: /m)
  })

  it('names --s3-endpoint, not the network path to AWS, when nothing listens there', async () => {
    const endpoint = await refusedUrl()
    const result = await runCli(
      ['verify-bucket-policy', '--bucket', BUCKET, ...ROLES, '--s3-endpoint', endpoint],
      fake.env,
    )
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      new RegExp(`^Error: The connection to S3 at ${endpoint} failed: s3:Get\\w+ on s3://${BUCKET}`, 'm'),
    )
    assert.ok(
      result.stderr.includes(
        `Try: Nothing accepts connections at ${new URL(endpoint).host}: check the host and port in --s3-endpoint (S3_ENDPOINT_URL) "${endpoint}", and that the store is running.`,
      ),
      result.stderr,
    )
    assert.doesNotMatch(result.stderr, /VPC endpoint|NAT/)
  })

  it('takes the endpoint from S3_ENDPOINT_URL', async () => {
    const result = await runCli(['verify-bucket-policy', '--bucket', BUCKET, ...ROLES], {
      ...fake.env,
      S3_ENDPOINT_URL: fake.endpoint,
    })
    assert.equal(result.code, 0, result.stderr)
  })

  it("without AWS_REGION, takes the profile's region from the shared config file, and says so first", async () => {
    const withoutRegion = Object.fromEntries(Object.entries(fake.env).filter(([name]) => name !== 'AWS_REGION'))
    const dir = await tempDir()
    try {
      const config = join(dir.path, 'config')
      await writeFile(config, '[default]\nregion = eu-west-1\n')
      const args = ['verify-bucket-policy', '--bucket', BUCKET, ...ROLES, '--s3-endpoint', fake.endpoint, '--json']
      const first = fake.calls.length
      const result = await runCli(args, {...withoutRegion, AWS_CONFIG_FILE: config})
      const calls = fake.calls.slice(first)
      // The verdict is the bucket's (other tests set it up); the run itself read it.
      assert.ok(result.code === 0 || result.code === 1, result.stderr)
      assert.match(result.stdout, /"verdict"/)
      assert.match(
        result.stderr.split('\n')[0] ?? '',
        / INFO kubecost-s3-exporter: AWS region eu-west-1 \(from profile default in /,
      )
      assert.deepEqual((JSON.parse(result.stdout) as {awsRegion: unknown}).awsRegion, {
        name: 'eu-west-1',
        source: `profile default in ${config}`,
      })
      assert.ok(calls.length > 0 && calls.every(c => c.region === 'eu-west-1'), "signed for the profile's region")

      // No region anywhere: refused before any call, naming the ways to set one (this command has no --region).
      const none = await runCli(args, withoutRegion)
      assert.equal(none.code, 2, none.stderr)
      assert.match(
        none.stdout,
        /"message": "No AWS region is configured: set AWS_REGION, or region = <region> in profile default of \/nonexistent\/aws-config"/,
      )
    } finally {
      await dir.remove()
    }
  })
})

describe('verify-bucket-policy: --strict, --exporter-account, environment variables, hostile files', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    dir = await tempDir()
  })
  after(() => dir.remove())
  const write = async (name: string, body: string | object) => {
    const file = join(dir.path, name)
    await writeFile(file, typeof body === 'string' ? body : JSON.stringify(body))
    return file
  }

  it('passes the recommended policy with and without --exporter-account, also under --strict', async () => {
    for (const extra of [[], ['--exporter-account', '444455556666', '--exporter-account', '555566667777']]) {
      const printed = await verify(['--print-recommended', ...extra])
      assert.equal(printed.code, 0, printed.stderr)
      const file = await write(`recommended-${extra.length}.json`, printed.stdout)
      const checked = await verify(['--policy-file', file, '--strict', ...extra])
      assert.equal(checked.code, 0, checked.stdout + checked.stderr)
      assert.match(checked.stdout, /Verdict: PASS for bucket .*: 5 passed, 0 failed, 0 warned, 3 skipped\n$/)
    }
  })

  it('exits 1 on a warning only with --strict (or VERIFY_STRICT)', async () => {
    const policy = JSON.parse((await verify(['--print-recommended'])).stdout) as {Statement: object[]}
    policy.Statement.push({
      Sid: 'Office',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${BUCKET}/*`,
      Condition: {IpAddress: {'aws:SourceIp': '203.0.113.0/24'}},
    })
    const file = await write('office.json', policy)
    const lenient = await verify(['--policy-file', file])
    assert.equal(lenient.code, 0, lenient.stderr)
    assert.match(lenient.stdout, /^WARN +no-public-allow +cannot tell whether statement "Office" \(#5\)/m)
    const strict = await verify(['--policy-file', file, '--strict'])
    assert.equal(strict.code, 1)
    assert.match(
      strict.stderr,
      /Error: 1 of 8 checks warned for bucket kubecost-data-collection-bucket and --strict is set: no-public-allow/,
    )
    assert.equal((await verify(['--policy-file', file], {VERIFY_STRICT: 'true'})).code, 1)
  })

  it('takes every role flag from its environment variable', async () => {
    const printed = await runCli(['verify-bucket-policy', '--bucket', BUCKET, '--print-recommended'], {
      BUCKET_ADMIN_ROLE_ARNS: `${ADMIN},arn:aws:iam::111122223333:role/second-admin`,
      CRAWLER_ROLE_ARN: CRAWLER,
      QUICKSIGHT_ROLE_ARN: 'arn:aws:iam::111122223333:role/my-quicksight',
      EXPORTER_TAG: 'team=kubecost',
      EXPORTER_ACCOUNTS: '444455556666,555566667777',
    })
    assert.equal(printed.code, 0, printed.stderr)
    const policy = JSON.parse(printed.stdout) as {
      Statement: Array<{Sid: string; Condition: Record<string, Record<string, unknown>>; Principal: unknown}>
    }
    const deny = policy.Statement.find(s => s.Sid === 'DenyOtherAccountsUnlessNamed')
    assert.deepEqual(deny?.Condition.ArnNotLike?.['aws:PrincipalArn'], [
      ADMIN,
      'arn:aws:iam::111122223333:role/second-admin',
      CRAWLER,
      'arn:aws:iam::111122223333:role/my-quicksight',
    ])
    assert.deepEqual(deny?.Condition.StringNotEquals?.['aws:PrincipalAccount'], [
      '111122223333',
      '444455556666',
      '555566667777',
    ])
    assert.ok(policy.Statement.some(s => s.Condition.StringNotEquals?.['aws:PrincipalTag/team'] === 'kubecost'))
    const bad = await runCli(['verify-bucket-policy', '--bucket', BUCKET, '--print-recommended'], {
      CRAWLER_ROLE_ARN: CRAWLER,
      EXPORTER_ACCOUNTS: '12345',
    })
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /Invalid --exporter-account \(EXPORTER_ACCOUNTS\) "12345": an AWS account id is 12 digits/)
  })

  it('catches case 1 (a cross-account grant) and case 3 (a Deny on one region) in the human output', async () => {
    const arn = `arn:aws:s3:::${BUCKET}`
    const old = JSON.parse(await readFile(OLD_RECOMMENDED, 'utf8')) as {Statement: object[]}
    old.Statement.push({
      Effect: 'Allow',
      Principal: {AWS: 'arn:aws:iam::999988887777:root'},
      Action: 's3:GetObject',
      Resource: `${arn}/*`,
    })
    const case1 = await verify(['--policy-file', await write('case1.json', old)])
    assert.equal(case1.code, 1)
    assert.match(
      case1.stdout,
      /^FAIL {5}expected-principals +s3:GetObject on its objects over TLS 1\.3 by a session of a role of another account \(999988887777\) tagged irsa-kubecost-s3-exporter=true is allowed by statement #4 and no Deny applies/m,
    )
    const regional = JSON.parse((await verify(['--print-recommended'])).stdout) as {
      Statement: Array<{Resource: string[]}>
    }
    for (const s of regional.Statement) s.Resource = [arn, `${arn}/account_id=111122223333/region=us-east-1/*`]
    const case3 = await verify(['--policy-file', await write('case3.json', regional)])
    assert.equal(case3.code, 1)
    assert.match(
      case3.stdout,
      /^FAIL {5}https-only +statement "DenyPlainHttp" \(#1\) is meant to deny plain-HTTP requests but its Resource .* does not cover every key the exporter writes/m,
    )
  })

  it('exits 2 with a location for absurd nesting, and fails a policy over 20 KB', async () => {
    const deep = await verify(['--policy-file', await write('deep.json', `{"Statement": ${'['.repeat(20_000)}]}`)])
    assert.equal(deep.code, 2, deep.stderr)
    assert.match(
      deep.stderr,
      /is not valid JSON: line 1, column \d+ \(Statement(\[0\])+\): nested more than 64 levels deep/,
    )
    assert.doesNotMatch(deep.stderr, /RangeError/)
    const policy = JSON.parse((await verify(['--print-recommended'])).stdout) as {Statement: Array<{Sid: string}>}
    const padding = Array.from({length: 80}, (_, i) => ({
      ...policy.Statement[0],
      Sid: `DenyPlainHttp${i}${'x'.repeat(300)}`,
    }))
    const big = await verify([
      '--policy-file',
      await write('big.json', {...policy, Statement: [...policy.Statement, ...padding]}),
    ])
    assert.equal(big.code, 1)
    assert.match(
      big.stdout,
      /^FAIL {5}policy-size +the policy is \d+ bytes without whitespace; S3 refuses bucket policies over 20480 bytes/m,
    )
  })
})

describe('verify-bucket-policy on a store without some bucket-settings APIs', () => {
  let fake: S3SettingsFake
  before(async () => {
    fake = await startS3WithSettings(['minio-bucket', 'locked-bucket', 'bare-store'])
  })
  after(() => fake.close())
  const live = (bucket: string, args: string[] = []) =>
    runCli(['verify-bucket-policy', '--bucket', bucket, ...ROLES, '--s3-endpoint', fake.endpoint, ...args], fake.env)

  it('warns on each setting the endpoint does not implement, and still reports the rest', async () => {
    const policy = (await verify(['--print-recommended'])).stdout.replaceAll(BUCKET, 'minio-bucket')
    await fake.client.send(new PutBucketPolicyCommand({Bucket: 'minio-bucket', Policy: policy}))
    for (const setting of ['encryption', 'publicAccessBlock', 'ownershipControls'] as const)
      fake.notImplemented('minio-bucket', setting)
    const result = await live('minio-bucket')
    assert.equal(result.code, 0, result.stderr)
    assert.match(
      result.stdout,
      /^WARN +default-encryption +cannot read the encryption configuration: s3:GetEncryptionConfiguration is not implemented by this S3 endpoint \(NotImplemented\)$/m,
    )
    assert.match(
      result.stdout,
      /^WARN +public-access-block +cannot read the public access block: s3:GetBucketPublicAccessBlock is not implemented by this S3 endpoint \(NotImplemented\)$/m,
    )
    assert.match(
      result.stdout,
      /^WARN +object-ownership +cannot read the ownership controls: s3:GetBucketOwnershipControls is not implemented/m,
    )
    assert.match(result.stdout, /^PASS +https-only/m)
    assert.match(result.stdout, /Verdict: PASS with warnings .*: 5 passed, 0 failed, 3 warned, 0 skipped/)
    assert.equal((await live('minio-bucket', ['--strict'])).code, 1)
  })

  it('is INCONCLUSIVE, exit 1, on a store that implements none of the bucket APIs: nothing was checked', async () => {
    for (const setting of ['policy', 'encryption', 'publicAccessBlock', 'ownershipControls'] as const)
      fake.notImplemented('bare-store', setting)
    const result = await live('bare-store')
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stdout,
      /\nVerdict: INCONCLUSIVE \(no policy check could run: cannot read the bucket policy: s3:GetBucketPolicy is not implemented by this S3 endpoint \(NotImplemented\)\) for bucket bare-store \(live bucket settings\): 0 passed, 0 failed, 7 warned, 1 skipped\n$/,
    )
    assert.doesNotMatch(result.stdout, /Verdict: PASS/)
    assert.match(
      result.stderr,
      /^Error: The check of bucket bare-store is inconclusive: no policy check could run: cannot read the bucket policy: s3:GetBucketPolicy is not implemented by this S3 endpoint \(NotImplemented\)$/m,
    )
    assert.match(result.stderr, /^Try: .*analyse it with --policy-file\.$/m)
    const json = await live('bare-store', ['--json'])
    assert.equal(json.code, 1, json.stderr)
    const report = reportOf(json) as ReportJson & {inconclusive?: string}
    assert.equal(report.verdict, 'inconclusive')
    assert.match(report.inconclusive ?? '', /^no policy check could run: cannot read the bucket policy: /)
    assert.deepEqual(report.counts, {pass: 0, fail: 0, warn: 7, skipped: 1})
  })

  it('warns on the policy checks when GetBucketPolicy is not implemented or denied, and is INCONCLUSIVE', async () => {
    fake.set('locked-bucket', 'encryption', settingXml.encryption('AES256'))
    fake.set(
      'locked-bucket',
      'publicAccessBlock',
      settingXml.publicAccessBlock({
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      }),
    )
    fake.set('locked-bucket', 'ownershipControls', settingXml.ownershipControls('BucketOwnerEnforced'))
    fake.notImplemented('locked-bucket', 'policy')
    const result = await live('locked-bucket', ['--json'])
    // Every setting passes, yet nothing says who can reach the data.
    assert.equal(result.code, 1, result.stderr)
    const report = reportOf(result)
    assert.equal(report.verdict, 'inconclusive')
    assert.deepEqual(statusOf(report), {
      'https-only': 'warn',
      'tls-1.2': 'warn',
      'expected-principals': 'warn',
      'no-public-allow': 'warn',
      'policy-size': 'skipped',
      'default-encryption': 'pass',
      'public-access-block': 'pass',
      'object-ownership': 'pass',
    })
    assert.match(
      report.checks[0]?.reason ?? '',
      /cannot read the bucket policy: s3:GetBucketPolicy is not implemented by this S3 endpoint \(NotImplemented\)/,
    )
  })
})
