import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type {IamPolicies, PolicyJson} from '../../src/lib/iam/policies.js'
import {evaluate} from '../../src/lib/policy/evaluator.js'
import {AthenaFake} from '../fakes/athena.js'
import type {RecordedCall} from '../fakes/aws-calls.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {GlueFake} from '../fakes/glue.js'
import {QuickSightFake} from '../fakes/quicksight.js'
import {type S3SettingsFake, startS3WithSettings} from '../fakes/s3-bucket-settings.js'
import {TEST_ENV} from '../fakes/s3.js'
import {runCli} from '../helpers.js'
import {asDocument} from './iam-evaluate.js'

/*
 * The operator policies `iam-policy` prints, against the calls each command really makes: every
 * command's main scenarios run against the fakes, which record each request; each request is mapped
 * to the IAM action (and resources) AWS authorises it as, and the project's evaluator must allow every
 * one under the printed policy, while every action the policy lists must be one a scenario made.
 */

const ACCOUNT = '111122223333'
const REGION = 'us-east-1'
const CLUSTER_ARN = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod`
const BUCKET = 'kubecost-data-111122223333'
const PREFIX = 'exports/kubecost'
const CRAWLER_ROLE = `arn:aws:iam::${ACCOUNT}:role/kubecost_glue_crawler_role`
const DATASET = 'e88edf48-f2cd-4c23-b6a4-e2b3034e2c41'
const WORKGROUP = 'kubecost'
const RESULTS = 's3://query-results-111122223333/kubecost'
const glue = (resource: string) => `arn:aws:glue:${REGION}:${ACCOUNT}:${resource}`
const athena = (workgroup: string) => `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/${workgroup}`
const quicksight = (resource: string) => `arn:aws:quicksight:${REGION}:${ACCOUNT}:${resource}`

/** One permission a call needs: an action on a resource, with the request's condition keys. */
interface Needed {
  action: string
  resource: string
  keys?: Record<string, string>
  /** What made the call, for the failure message. */
  call: string
}

type Json = Record<string, unknown>

/** Glue names a catalog object by the catalog, its database and (for a table) the table. */
const tableResources = (db: unknown, table: unknown) => [
  glue('catalog'),
  glue(`database/${String(db).toLowerCase()}`),
  glue(`table/${String(db).toLowerCase()}/${String(table).toLowerCase()}`),
]

function glueNeeds(op: string, body: Json): Needed[] {
  const call = `Glue ${op} ${JSON.stringify(body).slice(0, 120)}`
  const each = (resources: string[], action = `glue:${op}`) => resources.map(resource => ({action, resource, call}))
  switch (op) {
    case 'GetDatabase':
      return each([glue('catalog'), glue(`database/${String(body.Name).toLowerCase()}`)])
    case 'CreateDatabase':
    case 'UpdateDatabase':
      return each([glue('catalog'), glue(`database/${String((body.DatabaseInput as Json).Name).toLowerCase()}`)])
    case 'GetTable':
      return each(tableResources(body.DatabaseName, body.Name))
    case 'CreateTable':
    case 'UpdateTable':
      return each(tableResources(body.DatabaseName, (body.TableInput as Json).Name))
    case 'GetPartitions':
      return each(tableResources(body.DatabaseName, body.TableName))
    case 'GetCrawler':
    case 'StartCrawler':
      return each([glue(`crawler/${String(body.Name)}`)])
    case 'CreateCrawler':
    case 'UpdateCrawler': {
      const role = String(body.Role)
      const roleArn = role.startsWith('arn:') ? role : `arn:aws:iam::${ACCOUNT}:role/${role}`
      return [
        ...each([glue(`crawler/${String(body.Name)}`)]),
        // Giving a crawler its role is passing that role to Glue.
        {action: 'iam:PassRole', resource: roleArn, keys: {'iam:PassedToService': 'glue.amazonaws.com'}, call},
        // Tags given at creation are authorised as tagging too.
        ...(body.Tags ? each([glue(`crawler/${String(body.Name)}`)], 'glue:TagResource') : []),
      ]
    }

    case 'GetTags':
    case 'TagResource':
      return each([String(body.ResourceArn)])

    // Takes no resource: IAM authorises it on "*".
    case 'GetCrawlerMetrics':
      return each(['*'])
    default:
      throw new Error(`no IAM mapping for ${call}`)
  }
}

/** What Athena reads from Glue, with the caller's credentials, to run a query over the view. */
function catalogReads(query: string, call: string): Needed[] {
  const [, db = '', view = ''] = /FROM "([^"]+)"\."([^"]+)"/.exec(query) ?? []
  assert.ok(db && view, `a query over the view: ${query}`)
  const each = (action: string, resources: string[]) => resources.map(resource => ({action, resource, call}))
  return [
    ...each('glue:GetDatabase', [glue('catalog'), glue(`database/${db}`)]),
    ...each('glue:GetTable', [...tableResources(db, view), ...tableResources(db, BASE_TABLE)]),
    ...each('glue:GetPartitions', tableResources(db, BASE_TABLE)),
  ]
}

/** Where the fake's primary workgroup keeps query results. */
const PRIMARY_RESULTS = 's3://query-results-111122223333/'

/** The table under the view, as deploy-glue names it by default. */
const BASE_TABLE = 'kubecost_table'

/** What a query's results need: Athena writes them where the workgroup says, encrypted as it says, as the caller. */
function resultWrites(body: Json, workgroups: ReadonlyMap<string, Json>, call: string): Needed[] {
  const workgroup = workgroups.get((body.WorkGroup as string | undefined) ?? 'primary')
  const configured = (workgroup?.Configuration as Json | undefined)?.ResultConfiguration as Json | undefined
  const location =
    ((body.ResultConfiguration as Json | undefined)?.OutputLocation as string | undefined) ??
    (configured?.OutputLocation as string | undefined)
  assert.ok(location, `a result location for ${call}`)
  const [bucket = '', ...rest] = location.replace(/^s3:\/\//, '').split('/')
  const encryption = configured?.EncryptionConfiguration as Json | undefined
  return [
    {action: 's3:GetBucketLocation', resource: `arn:aws:s3:::${bucket}`, call},
    {action: 's3:PutObject', resource: `arn:aws:s3:::${bucket}/${rest.join('/')}query-id.csv`, call},
    // SSE-KMS: S3 asks KMS for the object's data key as the caller.
    ...(encryption?.EncryptionOption === 'SSE_KMS'
      ? [
          {
            action: 'kms:GenerateDataKey',
            resource: String(encryption.KmsKey),
            keys: {'kms:ViaService': `s3.${REGION}.amazonaws.com`},
            call,
          },
        ]
      : []),
  ]
}

function athenaNeeds(op: string, body: Json, lastWorkgroup: string, workgroups: ReadonlyMap<string, Json>): Needed[] {
  const call = `Athena ${op} ${JSON.stringify(body).slice(0, 120)}`
  switch (op) {
    case 'ListWorkGroups':
      return [{action: 'athena:ListWorkGroups', resource: '*', call}]
    case 'GetWorkGroup':
    case 'UpdateWorkGroup':
      return [{action: `athena:${op}`, resource: athena(String(body.WorkGroup)), call}]
    case 'CreateWorkGroup':
      return [
        {action: 'athena:CreateWorkGroup', resource: athena(String(body.Name)), call},
        // Tags given at creation are authorised as tagging too.
        ...(body.Tags ? [{action: 'athena:TagResource', resource: athena(String(body.Name)), call}] : []),
      ]
    case 'ListTagsForResource':
    case 'TagResource':
      return [{action: `athena:${op}`, resource: String(body.ResourceARN), call}]
    case 'StartQueryExecution': {
      return [
        {
          action: 'athena:StartQueryExecution',
          resource: athena((body.WorkGroup as string | undefined) ?? 'primary'),
          call,
        },
        // The caller writes the query's results: Athena asks for the bucket's region, then puts objects.
        ...resultWrites(body, workgroups, call),
        // Athena reads the catalog as the caller too: the view, the table under it and its partitions.
        ...catalogReads(String(body.QueryString), call),
      ]
    }

    case 'GetQueryExecution':
      return [{action: 'athena:GetQueryExecution', resource: athena(lastWorkgroup), call}]
    default:
      throw new Error(`no IAM mapping for ${call}`)
  }
}

const S3_SETTING_ACTIONS: Record<string, string> = {
  policy: 's3:GetBucketPolicy',
  encryption: 's3:GetEncryptionConfiguration',
  publicAccessBlock: 's3:GetBucketPublicAccessBlock',
  ownershipControls: 's3:GetBucketOwnershipControls',
}

/** S3 by path-style URL, as `--s3-endpoint` sends it. */
function s3Needs(c: RecordedCall): Needed[] {
  const url = new URL(c.url, 'http://s3')
  const [bucket = '', ...key] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const bucketArn = `arn:aws:s3:::${bucket}`
  const call = `S3 ${c.method} ${c.url}`
  const setting = Object.keys(S3_SETTING_ACTIONS).find(s => url.searchParams.has(s))
  if (c.method === 'GET' && key.length === 0 && setting)
    return [{action: S3_SETTING_ACTIONS[setting] as string, resource: bucketArn, call}]
  if (c.method === 'GET' && key.length === 0 && url.searchParams.get('list-type') === '2')
    return [
      {action: 's3:ListBucket', resource: bucketArn, keys: {'s3:prefix': url.searchParams.get('prefix') ?? ''}, call},
    ]
  if (c.method === 'GET' && key.length === 0 && url.searchParams.has('location'))
    return [{action: 's3:GetBucketLocation', resource: bucketArn, call}]
  if (c.method === 'HEAD' && key.length === 0) return [{action: 's3:ListBucket', resource: bucketArn, call}]
  if (c.method === 'PUT' && key.length > 0)
    return [{action: 's3:PutObject', resource: `${bucketArn}/${key.join('/')}`, call}]
  throw new Error(`no IAM mapping for ${call}`)
}

/** QuickSight's REST paths, and the STS and Glue calls refresh-dataset makes on the same fake. */
function quicksightNeeds(c: RecordedCall): Needed[] {
  const call = `${c.method} ${c.url}${c.target ? ` ${c.target}` : ''}`
  if (c.target?.startsWith('AWSGlue.')) return glueNeeds(c.target.slice('AWSGlue.'.length), JSON.parse(c.body) as Json)
  // GetCallerIdentity needs no permission: any identity may ask who it is.
  if (c.method === 'POST' && c.body.includes('Action=GetCallerIdentity')) return []
  const parts = new URL(c.url, 'http://qs').pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const [, , , dataSet, sub, subId] = parts
  const dataset = quicksight(`dataset/${dataSet ?? ''}`)
  const one = (action: string, resource: string): Needed[] => [{action: `quicksight:${action}`, resource, call}]
  if (parts.length === 3 && c.method === 'GET') return one('ListDataSets', '*')
  if (parts.length === 4 && c.method === 'GET') return one('DescribeDataSet', dataset)
  if (sub === 'ingestions') {
    if (parts.length === 5) return one('ListIngestions', `${dataset}/ingestion/*`)
    return one(c.method === 'PUT' ? 'CreateIngestion' : 'DescribeIngestion', `${dataset}/ingestion/${subId ?? ''}`)
  }
  if (sub === 'refresh-properties')
    return one(c.method === 'PUT' ? 'PutDataSetRefreshProperties' : 'DescribeDataSetRefreshProperties', dataset)
  if (sub === 'refresh-schedules')
    return one(
      c.method === 'POST'
        ? 'CreateRefreshSchedule'
        : c.method === 'PUT'
          ? 'UpdateRefreshSchedule'
          : 'ListRefreshSchedules',
      dataset,
    )
  throw new Error(`no IAM mapping for ${call}`)
}

function listedActions(policy: PolicyJson): string[] {
  return [...new Set(policy.Statement.flatMap(s => [s.Action].flat()))].sort()
}

function check(command: string, policy: PolicyJson, needed: Needed[]): void {
  const document = asDocument(policy)
  const caller = {kind: 'aws' as const, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/operator/session`, account: ACCOUNT}
  const denied = needed
    .filter(
      n => evaluate(document, {caller, action: n.action, resource: n.resource, keys: n.keys ?? {}}).outcome !== 'allow',
    )
    .map(n => `${n.action} on ${n.resource}${n.keys ? ` ${JSON.stringify(n.keys)}` : ''} (${n.call})`)
  assert.deepEqual([...new Set(denied)], [], `${command}: calls the printed policy does not allow`)
  const made = new Set(needed.map(n => n.action))
  const extra = listedActions(policy).filter(a => !made.has(a))
  assert.deepEqual(extra, [], `${command}: actions the policy lists that no scenario made`)
}

async function printedPolicies(extra: string[] = []): Promise<Map<string, PolicyJson>> {
  const r = await runCli([
    'iam-policy',
    '--cluster-arn',
    CLUSTER_ARN,
    '--oidc-provider',
    `oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`,
    '--bucket',
    BUCKET,
    '--prefix',
    PREFIX,
    '--json',
    ...extra,
  ])
  assert.equal(r.code, 0, r.stderr)
  return new Map((JSON.parse(r.stdout) as IamPolicies).operators.map(o => [o.command, o.policy]))
}

const ok = async (args: string[], env: Record<string, string>) => {
  const r = await runCli(args, env)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r
}

describe('iam-policy: the operator policies allow exactly the calls each command makes', () => {
  let s3: S3SettingsFake
  before(async () => {
    s3 = await startS3WithSettings([BUCKET])
  })
  after(() => s3.close())

  /** deploy-glue's calls: create everything, then update the table, crawler and workgroup. */
  async function deployGlueCalls(
    workgroupArgs: {create: string[]; update: string[]},
    primaryOutput = PRIMARY_RESULTS,
  ): Promise<Needed[]> {
    const g = await GlueFake.start()
    const a = await AthenaFake.start({primaryOutput})
    const first = s3.calls.length
    try {
      const deploy = (args: string[]) =>
        ok(['deploy-glue', '--bucket', BUCKET, '--prefix', PREFIX, '--s3-endpoint', s3.endpoint, ...args], {
          ...TEST_ENV,
          ...g.env,
          ...a.env,
        })
      await deploy(['--crawler-role-arn', CRAWLER_ROLE, '--labels', 'app', ...workgroupArgs.create])
      await deploy([
        '--crawler-role-arn',
        CRAWLER_ROLE,
        '--labels',
        'app,team',
        '--crawler-schedule',
        'cron(0 3 * * ? *)',
        '--verify',
        ...workgroupArgs.update,
      ])
      let workgroup = 'primary'
      const athenaNeeded = a.requests.flatMap(r => {
        if (r.op === 'StartQueryExecution') workgroup = (r.body.WorkGroup as string | undefined) ?? 'primary'
        return athenaNeeds(r.op, r.body, workgroup, a.workgroups)
      })
      assert.ok(g.writes().includes('UpdateTable') && g.writes().includes('UpdateCrawler'), g.writes().join(' '))
      return [
        ...g.requests.flatMap(r => glueNeeds(r.op, r.body)),
        ...athenaNeeded,
        ...s3.calls.slice(first).flatMap(s3Needs),
      ]
    } finally {
      await g.close()
      await a.close()
    }
  }

  it('deploy-glue, on the default workgroup', async () => {
    const needed = await deployGlueCalls({create: [], update: []})
    // --verify's query writes its results where primary keeps them: the operator says where.
    const policies = await printedPolicies(['--results-location', PRIMARY_RESULTS])
    check('deploy-glue', policies.get('deploy-glue') as PolicyJson, needed)
  })

  it("deploy-glue, on primary keeping its results in Athena's former default location: no --results-location needed", async () => {
    const needed = await deployGlueCalls(
      {create: [], update: []},
      `s3://aws-athena-query-results-${ACCOUNT}-${REGION}/`,
    )
    check('deploy-glue', (await printedPolicies()).get('deploy-glue') as PolicyJson, needed)
  })

  it('deploy-glue, creating and updating its own workgroup with a results KMS key, then using it', async () => {
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
    const create = ['--create-workgroup', WORKGROUP, '--results-location', RESULTS]
    const needed = await deployGlueCalls({create, update: [...create, '--results-kms-key', key]})
    assert.ok(needed.some(n => n.action === 'athena:CreateWorkGroup'))
    assert.ok(needed.some(n => n.action === 'athena:UpdateWorkGroup'))
    assert.ok(needed.some(n => n.action === 'kms:GenerateDataKey' && n.resource === key))
    const policies = await printedPolicies([
      '--workgroup',
      WORKGROUP,
      '--results-location',
      RESULTS,
      '--results-kms-key',
      key,
    ])
    check('deploy-glue', policies.get('deploy-glue') as PolicyJson, needed)
  })

  it('crawl: starting a crawl and following it, and attaching to one running', async () => {
    const g = await GlueFake.start()
    try {
      g.crawlers.set('kubecost_crawler', {
        input: {
          Name: 'kubecost_crawler',
          Role: 'kubecost_glue_crawler_role',
          Targets: {CatalogTargets: [{DatabaseName: 'kubecost_db', Tables: ['kubecost_table']}]},
        },
        state: 'READY',
        pollsLeft: 0,
        crawls: 0,
      })
      const crawl = () => ok(['crawl', '--poll-ms', '20'], {...TEST_ENV, ...g.env})
      await crawl()
      g.startCrawl('kubecost_crawler')
      await crawl()
      check(
        'crawl',
        (await printedPolicies()).get('crawl') as PolicyJson,
        g.requests.flatMap(r => glueNeeds(r.op, r.body)),
      )
    } finally {
      await g.close()
    }
  })

  it('refresh-dataset: a refresh, the schedule created then updated, and a dataset not found', async () => {
    const qs = await QuickSightFake.start({
      datasets: {[DATASET]: 'eks_insights'},
      crawlers: {kubecost_crawler: 'cron(0 1 * * ? *)'},
    })
    try {
      await ok(['refresh-dataset', '--poll-ms', '20'], qs.env)
      await ok(['refresh-dataset', '--configure-schedule'], qs.env)
      await ok(['refresh-dataset', '--configure-schedule', '--schedule-time', '05:30'], qs.env)
      // A dataset id that is not there: the command lists the account's datasets to suggest one.
      const missing = await runCli(['refresh-dataset', '--dataset-id', 'not-the-dataset'], qs.env)
      assert.equal(missing.code, 1, missing.stderr)
      const needed = qs.calls
        .flatMap(quicksightNeeds)
        // The look-up of the missing dataset is on another dataset id than the policy's.
        .filter(n => !n.resource.includes('not-the-dataset'))
      assert.ok(needed.some(n => n.action === 'quicksight:UpdateRefreshSchedule'))
      check('refresh-dataset', (await printedPolicies()).get('refresh-dataset') as PolicyJson, needed)
    } finally {
      await qs.close()
    }
  })

  it('verify-bucket-policy: reading the live bucket settings', async () => {
    const first = s3.calls.length
    const r = await runCli(
      [
        'verify-bucket-policy',
        '--bucket',
        BUCKET,
        '--bucket-admin-role',
        `arn:aws:iam::${ACCOUNT}:role/admin`,
        '--crawler-role-arn',
        CRAWLER_ROLE,
        '--s3-endpoint',
        s3.endpoint,
      ],
      s3.env,
    )
    assert.ok(r.code === 0 || r.code === 1, r.stderr)
    const policies = await printedPolicies()
    check(
      'verify-bucket-policy',
      policies.get('verify-bucket-policy') as PolicyJson,
      s3.calls.slice(first).flatMap(s3Needs),
    )
  })

  it("backfill-plan: listing this cluster's days in the bucket", async () => {
    const kubecost = await FakeKubecost.start({cluster: 'prod', days: ['2026-12-29'], containersPerDay: 2})
    const first = s3.calls.length
    try {
      await ok(
        [
          'backfill-plan',
          '--cluster-arn',
          CLUSTER_ARN,
          '--bucket',
          BUCKET,
          '--prefix',
          PREFIX,
          '--s3-endpoint',
          s3.endpoint,
          '--kubecost-url',
          kubecost.url,
          '--now',
          '2027-01-03T05:00:00Z',
        ],
        s3.env,
      )
    } finally {
      await kubecost.close()
    }
    const needed = s3.calls.slice(first).flatMap(s3Needs)
    assert.ok(needed.length > 0)
    check('backfill-plan', (await printedPolicies()).get('backfill-plan') as PolicyJson, needed)
  })

  it('fails a policy that misses a call or lists one never made (the check itself can fail)', () => {
    const needed: Needed[] = [{action: 'glue:StartCrawler', resource: glue('crawler/kubecost_crawler'), call: 'test'}]
    const only = (Action: string[]): PolicyJson => ({
      Version: '2012-10-17',
      Statement: [{Sid: 'S', Effect: 'Allow', Action, Resource: glue('crawler/kubecost_crawler')}],
    })
    assert.throws(() => check('crawl', only(['glue:GetCrawler']), needed), /does not allow/)
    assert.throws(() => check('crawl', only(['glue:StartCrawler', 'glue:DeleteCrawler']), needed), /no scenario made/)
    check('crawl', only(['glue:StartCrawler']), needed)
  })
})
