/**
 * The region every command acts in: resolved as the AWS SDK and CLI resolve it (the command's
 * --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region in a real shared config file),
 * said in the first log line and under --json, and checked where the calls arrive (the region each
 * request was signed for). Without one an operator command is refused (exit 2), and a malformed one
 * is refused wherever it came from (exit 2, naming the value and the place).
 */
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, afterEach, before, beforeEach, describe, it} from 'node:test'

import {AthenaFake} from '../fakes/athena.js'
import {GlueFake} from '../fakes/glue.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {QuickSightFake} from '../fakes/quicksight.js'
import {type S3Fake, TEST_CREDENTIALS, startS3} from '../fakes/s3.js'
import {runCli, tempDir} from '../helpers.js'

const DATASET = 'e88edf48-f2cd-4c23-b6a4-e2b3034e2c41'
const BUCKET = 'kubecost-data-111122223333'
const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const ROLE = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'

let dir: Awaited<ReturnType<typeof tempDir>>
let config: string
let credentials: string
before(async () => {
  dir = await tempDir()
  config = join(dir.path, 'config')
  credentials = join(dir.path, 'credentials')
  await writeFile(
    config,
    [
      '[profile ops]',
      'region = eu-west-1',
      '[profile no-region]',
      'output = json',
      '[profile typo]',
      'region = eu-west1',
    ].join('\n'),
  )
  // s3rver's keys: the profiles sign their requests with them.
  const keys = [
    `aws_access_key_id = ${TEST_CREDENTIALS.accessKeyId}`,
    `aws_secret_access_key = ${TEST_CREDENTIALS.secretAccessKey}`,
  ]
  await writeFile(credentials, ['[ops]', ...keys, '[no-region]', ...keys, '[typo]', ...keys].join('\n'))
})
after(() => dir.remove())

/** A profile of the shared files, and nothing else that could give a region or credentials. */
const profile = (name: string) => ({
  AWS_CONFIG_FILE: config,
  AWS_SHARED_CREDENTIALS_FILE: credentials,
  AWS_PROFILE: name,
})
const firstLine = (stderr: string) => stderr.split('\n')[0] ?? ''

describe("the profile's region, for every command that calls AWS", () => {
  let glue: GlueFake
  let athena: AthenaFake
  let s3: S3Fake
  before(async () => {
    s3 = await startS3([BUCKET])
  })
  after(() => s3.close())
  beforeEach(async () => {
    glue = await GlueFake.start()
    athena = await AthenaFake.start({primaryOutput: 's3://query-results-111122223333/'})
  })
  afterEach(async () => {
    await glue.close()
    await athena.close()
  })

  it('deploy-glue creates the catalog in the profile region, and says where the region came from', async () => {
    const args = ['deploy-glue', '--bucket', BUCKET, '--s3-endpoint', s3.endpoint, '--crawler-role-arn', ROLE, '--json']
    const result = await runCli(args, {
      ...profile('ops'),
      ...glue.env,
      ...athena.env,
    })
    assert.equal(result.code, 0, result.stderr)
    assert.match(
      firstLine(result.stderr),
      new RegExp(`^\\S+ INFO kubecost-s3-exporter: AWS region eu-west-1 \\(from profile ops in ${config}\\)$`),
    )
    assert.deepEqual((JSON.parse(result.stdout) as {awsRegion: unknown}).awsRegion, {
      name: 'eu-west-1',
      source: `profile ops in ${config}`,
    })
    assert.ok(glue.requests.some(r => r.op === 'CreateDatabase'))
    assert.deepEqual([...new Set([...glue.requests, ...athena.requests].map(r => r.region))], ['eu-west-1'])
  })

  it('crawl runs the crawler of the profile region; --region (GLUE_REGION) wins over the profile and AWS_REGION', async () => {
    glue.crawlers.set('kubecost_crawler', {
      input: {Name: 'kubecost_crawler', Role: 'kubecost_glue_crawler_role'},
      state: 'READY',
      pollsLeft: 0,
      crawls: 0,
    })
    glue.crawl = {runPolls: 0, outcome: 'SUCCEEDED'}
    const result = await runCli(['crawl', '--poll-ms', '20', '--json'], {...profile('ops'), ...glue.env})
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((JSON.parse(result.stdout) as {awsRegion: unknown}).awsRegion, {
      name: 'eu-west-1',
      source: `profile ops in ${config}`,
    })
    assert.deepEqual([...new Set(glue.requests.map(r => r.region))], ['eu-west-1'])

    const first = glue.requests.length
    const flagged = await runCli(['crawl', '--no-wait', '--json'], {
      ...profile('ops'),
      ...glue.env,
      AWS_REGION: 'us-west-2',
      GLUE_REGION: 'ap-southeast-2',
    })
    assert.equal(flagged.code, 0, flagged.stderr)
    assert.match(firstLine(flagged.stderr), /AWS region ap-southeast-2 \(from --region \(GLUE_REGION\)\)$/)
    assert.deepEqual((JSON.parse(flagged.stdout) as {awsRegion: unknown}).awsRegion, {
      name: 'ap-southeast-2',
      source: '--region (GLUE_REGION)',
    })
    assert.deepEqual([...new Set(glue.requests.slice(first).map(r => r.region))], ['ap-southeast-2'])
  })

  it('refresh-dataset asks STS and QuickSight in the profile region', async () => {
    const quicksight = await QuickSightFake.start({datasets: {[DATASET]: 'eks_insights'}})
    try {
      const env = {
        ...profile('ops'),
        AWS_ENDPOINT_URL_QUICKSIGHT: quicksight.endpoint,
        AWS_ENDPOINT_URL_STS: quicksight.endpoint,
        AWS_ENDPOINT_URL_GLUE: quicksight.endpoint,
      }
      const result = await runCli(['refresh-dataset', '--poll-ms', '20', '--json'], env)
      assert.equal(result.code, 0, result.stderr)
      const json = JSON.parse(result.stdout) as {region: string; awsRegion: unknown}
      assert.equal(json.region, 'eu-west-1')
      assert.deepEqual(json.awsRegion, {name: 'eu-west-1', source: `profile ops in ${config}`})
      assert.match(firstLine(result.stderr), /INFO kubecost-s3-exporter: AWS region eu-west-1 \(from profile ops in /)
      assert.ok(quicksight.actions.includes('sts:GetCallerIdentity'))
      assert.deepEqual([...new Set(quicksight.calls.map(c => c.region))], ['eu-west-1'])
    } finally {
      await quicksight.close()
    }
  })

  it('export to a bucket starts from the profile region; to a directory, with no AWS call, it names none', async () => {
    const kubecost = await FakeKubecost.start({cluster: 'prod', days: ['2026-03-02'], containersPerDay: 2})
    const out = await tempDir()
    try {
      const common = [
        '--cluster-arn',
        ARN,
        '--kubecost-url',
        kubecost.url,
        '--backfill-days',
        '1',
        '--now',
        '2026-03-05T10:30:00Z',
        '--json',
      ]
      const bucket = await runCli(
        ['export', ...common, '--bucket', BUCKET, '--s3-endpoint', s3.endpoint],
        profile('ops'),
      )
      assert.equal(bucket.code, 0, bucket.stderr)
      assert.match(firstLine(bucket.stderr), /AWS region eu-west-1 \(from profile ops in /)
      const json = JSON.parse(bucket.stdout) as {written: number; awsRegion: unknown}
      assert.equal(json.written, 1)
      assert.deepEqual(json.awsRegion, {name: 'eu-west-1', source: `profile ops in ${config}`})

      // Nothing to ask AWS: no region is needed, so even a malformed one is no obstacle.
      const local = await runCli(['export', ...common, '--output-dir', out.path], {AWS_REGION: 'not a region'})
      assert.equal(local.code, 0, local.stderr)
      assert.doesNotMatch(local.stderr, /AWS region/)
      assert.equal((JSON.parse(local.stdout) as {awsRegion?: unknown}).awsRegion, undefined)
    } finally {
      await kubecost.close()
      await out.remove()
    }
  })
})

describe('no region, or a malformed one: exit 2 before any call', () => {
  let glue: GlueFake
  beforeEach(async () => {
    glue = await GlueFake.start()
  })
  afterEach(() => glue.close())

  it('an operator command with no region anywhere names every way to set one', async () => {
    for (const [command, variable] of [
      ['crawl', 'GLUE_REGION'],
      ['deploy-glue', 'GLUE_REGION'],
      ['refresh-dataset', 'QUICKSIGHT_REGION'],
    ] as const) {
      const args = command === 'deploy-glue' ? [command, '--bucket', BUCKET] : [command]
      const result = await runCli(args, {...profile('no-region'), ...glue.env})
      assert.equal(result.code, 2, `${command}: ${result.stderr}`)
      assert.match(
        result.stderr,
        new RegExp(
          `^Error: No AWS region is configured: set --region \\(${variable}\\), or AWS_REGION, or region = <region> in profile no-region of ${config}$`,
          'm',
        ),
      )
    }

    assert.deepEqual(glue.requests, [])
  })

  it('a malformed region is refused naming the value and where it came from', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['crawl'], {AWS_REGION: 'us-east-1x'}, /^Error: Invalid AWS region "us-east-1x" in AWS_REGION: /m],
      [
        ['deploy-glue', '--bucket', BUCKET],
        {AWS_DEFAULT_REGION: 'Europe (Ireland)'},
        /^Error: Invalid AWS region "Europe \(Ireland\)" in AWS_DEFAULT_REGION: /m,
      ],
      [
        ['refresh-dataset'],
        profile('typo'),
        new RegExp(`^Error: Invalid AWS region "eu-west1" in the region of profile typo in ${config}: `, 'm'),
      ],
      [
        ['crawl', '--region', 'eu_west_1'],
        {},
        /^Error: Invalid --region \(GLUE_REGION\) "eu_west_1": not an AWS region name/m,
      ],
      [
        ['export', '--cluster-arn', ARN, '--bucket', BUCKET, '--kubecost-url', 'http://127.0.0.1:9'],
        {AWS_REGION: 'us-east-1 '.repeat(2)},
        /^Error: Invalid AWS region "us-east-1 us-east-1 " in AWS_REGION: /m,
      ],
    ]
    for (const [args, env, message] of cases) {
      const result = await runCli(args, {
        ...glue.env,
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'x',
        ...env,
      })
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message)
      const json = await runCli([...args, '--json'], {
        ...glue.env,
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'x',
        ...env,
      })
      assert.equal(json.code, 2)
      assert.equal((JSON.parse(json.stdout) as {error: {exitCode: number}}).error.exitCode, 2)
    }

    assert.deepEqual(glue.requests, [])
  })
})
