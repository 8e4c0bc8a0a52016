import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {SESSION_NAME} from '../../src/lib/aws/identity.js'
import {parseClusterArn} from '../../src/lib/cluster.js'
import type {Day} from '../../src/lib/dates.js'
import {type IamInput, type IamPolicies, type PolicyJson, iamPolicies} from '../../src/lib/iam/policies.js'
import {Layout} from '../../src/lib/layout.js'
import {type Outcome, evaluate} from '../../src/lib/policy/evaluator.js'
import {runCli} from '../helpers.js'
import {asDocument} from './iam-evaluate.js'
import {namedDeep} from '../settings.js'

const CALLER = {kind: 'aws' as const, arn: 'arn:aws:sts::111122223333:assumed-role/x/y', account: '111122223333'}

function decide(policy: PolicyJson, action: string, resource: string, keys: Record<string, string> = {}): Outcome {
  return evaluate(asDocument(policy), {caller: CALLER, action, resource, keys}).outcome
}

const CLUSTER = parseClusterArn('arn:aws:eks:eu-west-1:111122223333:cluster/prod')
const PROVIDER = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'
const BUCKET = 'kubecost-data-444455556666'
const PARENT = 'arn:aws:iam::444455556666:role/kubecost-s3-exporter'
const DAYS: Day[] = ['2026-01-01', '2026-02-28', '2026-12-31'] as Day[]

const base: IamInput = {
  cluster: CLUSTER,
  oidcProvider: PROVIDER,
  bucket: BUCKET,
  prefix: 'exports/kubecost',
  namespace: 'kubecost',
  serviceAccount: 'kubecost-s3-exporter',
}

/** Every S3 call `export` makes for this cluster, built from the exporter's own Layout. */
function exporterCalls(layout: Layout): Array<[string, string, Record<string, string>]> {
  return [
    ['s3:ListBucket', `arn:aws:s3:::${BUCKET}`, {'s3:prefix': layout.listingPrefix}],
    ...DAYS.map((d): [string, string, Record<string, string>] => [
      's3:PutObject',
      `arn:aws:s3:::${BUCKET}/${layout.key(d)}`,
      {},
    ]),
  ]
}

/** Calls close to the exporter's that it must not be able to make. */
function foreignCalls(layout: Layout): Array<[string, string, string, Record<string, string>]> {
  const other = (arn: string) => new Layout(parseClusterArn(arn), 'exports/kubecost')
  const day = DAYS[0] as Day
  const key = layout.key(day)
  return [
    [
      'another cluster of the account',
      's3:PutObject',
      `arn:aws:s3:::${BUCKET}/${other('arn:aws:eks:eu-west-1:111122223333:cluster/staging').key(day)}`,
      {},
    ],
    [
      "a cluster whose name ends in this one's",
      's3:PutObject',
      `arn:aws:s3:::${BUCKET}/${other('arn:aws:eks:eu-west-1:111122223333:cluster/x_prod').key(day)}`,
      {},
    ],
    [
      "a cluster whose name starts with this one's",
      's3:PutObject',
      `arn:aws:s3:::${BUCKET}/${other('arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu').key(day)}`,
      {},
    ],
    [
      'the same cluster name in another region',
      's3:PutObject',
      `arn:aws:s3:::${BUCKET}/${other('arn:aws:eks:us-east-1:111122223333:cluster/prod').key(day)}`,
      {},
    ],
    [
      'the same cluster name in another account',
      's3:PutObject',
      `arn:aws:s3:::${BUCKET}/${other('arn:aws:eks:eu-west-1:999999999999:cluster/prod').key(day)}`,
      {},
    ],
    ['another bucket', 's3:PutObject', `arn:aws:s3:::other-bucket/${key}`, {}],
    ['outside the prefix', 's3:PutObject', `arn:aws:s3:::${BUCKET}/${new Layout(CLUSTER).key(day)}`, {}],
    [
      'another folder of the partition',
      's3:PutObject',
      `arn:aws:s3:::${BUCKET}/${layout.listingPrefix}tmp/${layout.fileName(day)}`,
      {},
    ],
    ['reading its own file back', 's3:GetObject', `arn:aws:s3:::${BUCKET}/${key}`, {}],
    ['deleting its own file', 's3:DeleteObject', `arn:aws:s3:::${BUCKET}/${key}`, {}],
    ['listing the whole bucket', 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, {}],
    [
      'listing another region',
      's3:ListBucket',
      `arn:aws:s3:::${BUCKET}`,
      {'s3:prefix': other('arn:aws:eks:us-east-1:111122223333:cluster/prod').listingPrefix},
    ],
    ['listing another bucket', 's3:ListBucket', 'arn:aws:s3:::other-bucket', {'s3:prefix': layout.listingPrefix}],
    ['changing the bucket policy', 's3:PutBucketPolicy', `arn:aws:s3:::${BUCKET}`, {}],
  ]
}

function actionsOf(policy: PolicyJson): string[] {
  return policy.Statement.flatMap(s => [s.Action].flat()).sort()
}

function allPolicies(p: IamPolicies): Array<[string, PolicyJson]> {
  const roles = [
    ['exporter', p.exporterRole],
    ['parent', p.parentRole],
    ['crawler', p.crawlerRole],
    ['quicksight', p.quicksightRole],
  ] as const
  return [
    ...roles.flatMap(([name, role]) =>
      role ? [[`${name} permissions`, role.permissionsPolicy] as [string, PolicyJson]] : [],
    ),
    ...p.operators.map((o): [string, PolicyJson] => [o.command, o.policy]),
  ]
}

describe('iam-policy: the exporter role without role chaining', () => {
  const policies = iamPolicies(base)
  const permissions = policies.exporterRole.permissionsPolicy
  const layout = new Layout(CLUSTER, 'exports/kubecost')

  for (const [action, resource, keys] of exporterCalls(layout)) {
    it(`allows ${action} ${resource}${keys['s3:prefix'] ? ` prefix ${keys['s3:prefix']}` : ''}`, () => {
      assert.equal(decide(permissions, action, resource, keys), 'allow')
    })
  }

  for (const [what, action, resource, keys] of foreignCalls(layout)) {
    it(`does not allow ${what} (${action} ${resource})`, () => {
      assert.equal(decide(permissions, action, resource, keys), 'implicit-deny')
    })
  }

  it('lists nothing but ListBucket and PutObject', () => {
    assert.deepEqual(actionsOf(permissions), ['s3:ListBucket', 's3:PutObject'])
  })

  it('is tagged as an exporter role, as the recommended bucket policy expects', () => {
    assert.deepEqual(policies.exporterRole.tags, {'irsa-kubecost-s3-exporter': 'true'})
  })

  it('works without a prefix', () => {
    const plain = iamPolicies({...base, prefix: ''}).exporterRole.permissionsPolicy
    const l = new Layout(CLUSTER)
    for (const [action, resource, keys] of exporterCalls(l))
      assert.equal(decide(plain, action, resource, keys), 'allow', `${action} ${resource}`)
    assert.equal(decide(plain, 's3:PutObject', `arn:aws:s3:::${BUCKET}/${layout.key(DAYS[0] as Day)}`), 'implicit-deny')
  })
})

describe('iam-policy: the IRSA trust policy', () => {
  const trust = iamPolicies(base).exporterRole.trustPolicy
  const statement = trust.Statement[0]
  const role = `arn:aws:iam::111122223333:role/kubecost-s3-exporter-prod`
  const web = (keys: Record<string, string>) => decide(trust, 'sts:AssumeRoleWithWebIdentity', role, keys)

  it("trusts the cluster's OIDC provider, in the cluster's account, for web identity only", () => {
    assert.equal(trust.Statement.length, 1)
    assert.deepEqual(statement?.Principal, {Federated: `arn:aws:iam::111122223333:oidc-provider/${PROVIDER}`})
    assert.equal(statement?.Action, 'sts:AssumeRoleWithWebIdentity')
  })

  it("lets the exporter's service account in, with the sts.amazonaws.com audience", () => {
    assert.equal(
      web({
        [`${PROVIDER}:aud`]: 'sts.amazonaws.com',
        [`${PROVIDER}:sub`]: 'system:serviceaccount:kubecost:kubecost-s3-exporter',
      }),
      'allow',
    )
  })

  for (const [what, sub, aud] of [
    ['another service account of the namespace', 'system:serviceaccount:kubecost:default', 'sts.amazonaws.com'],
    ['the same name in another namespace', 'system:serviceaccount:default:kubecost-s3-exporter', 'sts.amazonaws.com'],
    [
      'a subject that only starts like it',
      'system:serviceaccount:kubecost:kubecost-s3-exporter-2',
      'sts.amazonaws.com',
    ],
    ['another audience', 'system:serviceaccount:kubecost:kubecost-s3-exporter', 'example.com'],
  ] as const) {
    it(`keeps out ${what}`, () => {
      assert.equal(web({[`${PROVIDER}:aud`]: aud, [`${PROVIDER}:sub`]: sub}), 'implicit-deny')
    })
  }

  it('keeps out a token without an audience', () => {
    assert.equal(web({[`${PROVIDER}:sub`]: 'system:serviceaccount:kubecost:kubecost-s3-exporter'}), 'implicit-deny')
  })
})

describe('iam-policy: role chaining', () => {
  const policies = iamPolicies({
    ...base,
    parentRoleArn: PARENT,
    caSecret: 'kubecost-ca',
    kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  })
  const child = policies.exporterRole.permissionsPolicy
  const parent = policies.parentRole
  const layout = new Layout(CLUSTER, 'exports/kubecost')

  it('gives the exporter role only sts:AssumeRole on the parent role', () => {
    assert.deepEqual(actionsOf(child), ['sts:AssumeRole'])
    assert.equal(decide(child, 'sts:AssumeRole', PARENT), 'allow')
    assert.equal(decide(child, 'sts:AssumeRole', 'arn:aws:iam::444455556666:role/admin'), 'implicit-deny')
    for (const [action, resource, keys] of exporterCalls(layout))
      assert.equal(decide(child, action, resource, keys), 'implicit-deny', `${action} ${resource}`)
  })

  it('tags the parent role, not the exporter role, as the exporter', () => {
    assert.deepEqual(parent?.tags, {'irsa-kubecost-s3-exporter': 'true'})
    assert.deepEqual(policies.exporterRole.tags, {})
  })

  it("lets only the exporter role assume the parent role, with the exporter's session name", () => {
    assert.ok(parent)
    assert.deepEqual(parent.trustPolicy.Statement[0]?.Principal, {
      AWS: 'arn:aws:iam::111122223333:role/kubecost-s3-exporter-prod',
    })
    assert.equal(decide(parent.trustPolicy, 'sts:AssumeRole', PARENT, {'sts:RoleSessionName': SESSION_NAME}), 'allow')
    assert.equal(
      decide(parent.trustPolicy, 'sts:AssumeRole', PARENT, {'sts:RoleSessionName': 'someone-else'}),
      'implicit-deny',
    )
  })

  it('gives the parent role every S3 call of the exporter and none of the foreign ones', () => {
    assert.ok(parent)
    for (const [action, resource, keys] of exporterCalls(layout))
      assert.equal(decide(parent.permissionsPolicy, action, resource, keys), 'allow', `${action} ${resource}`)
    for (const [what, action, resource, keys] of foreignCalls(layout))
      assert.equal(decide(parent.permissionsPolicy, action, resource, keys), 'implicit-deny', what)
  })

  it('lets the parent role read the CA secret (any suffix Secrets Manager gave it) in the bucket account, and no other secret', () => {
    assert.ok(parent)
    const secret = (name: string, account = '444455556666') =>
      `arn:aws:secretsmanager:eu-west-1:${account}:secret:${name}`
    assert.equal(
      decide(parent.permissionsPolicy, 'secretsmanager:GetSecretValue', secret('kubecost-ca-AbC123')),
      'allow',
    )
    assert.equal(
      decide(parent.permissionsPolicy, 'secretsmanager:GetSecretValue', secret('kubecost-ca-old-AbC123')),
      'implicit-deny',
    )
    assert.equal(
      decide(parent.permissionsPolicy, 'secretsmanager:GetSecretValue', secret('kubecost-ca-AbC123', '111122223333')),
      'implicit-deny',
    )
    assert.equal(
      decide(parent.permissionsPolicy, 'secretsmanager:PutSecretValue', secret('kubecost-ca-AbC123')),
      'implicit-deny',
    )
  })

  it('lets the parent role ask KMS for a data key through S3 only', () => {
    assert.ok(parent)
    const key = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    assert.equal(
      decide(parent.permissionsPolicy, 'kms:GenerateDataKey', key, {'kms:ViaService': 's3.eu-west-1.amazonaws.com'}),
      'allow',
    )
    assert.equal(decide(parent.permissionsPolicy, 'kms:GenerateDataKey', key), 'implicit-deny')
    assert.equal(
      decide(parent.permissionsPolicy, 'kms:Decrypt', key, {'kms:ViaService': 's3.eu-west-1.amazonaws.com'}),
      'implicit-deny',
    )
  })

  it('names a secret given by ARN exactly', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:kubecost-ca-AbC123'
    const p = iamPolicies({...base, caSecret: arn}).exporterRole.permissionsPolicy
    assert.equal(p.Statement.find(s => s.Sid === 'ReadKubecostCaBundle')?.Resource, arn)
  })
})

describe('iam-policy: the Glue crawler role and the operator commands', () => {
  const policies = iamPolicies({...base, parentRoleArn: PARENT, workgroup: 'kubecost'})
  const glue = (r: string) => `arn:aws:glue:eu-west-1:444455556666:${r}`
  const op = (command: string) => {
    const found = policies.operators.find(o => o.command === command)
    assert.ok(found, command)
    return found.policy
  }

  it('lets Glue assume the crawler role, in the pipeline account', () => {
    assert.deepEqual(policies.crawlerRole.trustPolicy.Statement[0]?.Principal, {Service: 'glue.amazonaws.com'})
    assert.equal(policies.crawlerRole.arn, 'arn:aws:iam::444455556666:role/kubecost_glue_crawler_role')
  })

  it("lets the crawler read the exported files and update the table's partitions, nothing else", () => {
    const p = policies.crawlerRole.permissionsPolicy
    const key = new Layout(CLUSTER, 'exports/kubecost').key(DAYS[0] as Day)
    assert.equal(decide(p, 's3:GetObject', `arn:aws:s3:::${BUCKET}/${key}`), 'allow')
    assert.equal(decide(p, 's3:GetObject', `arn:aws:s3:::${BUCKET}/elsewhere/file`), 'implicit-deny')
    assert.equal(decide(p, 's3:PutObject', `arn:aws:s3:::${BUCKET}/${key}`), 'implicit-deny')
    assert.equal(decide(p, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, {'s3:prefix': 'exports/kubecost/'}), 'allow')
    for (const action of [
      'glue:GetTable',
      'glue:BatchCreatePartition',
      'glue:BatchUpdatePartition',
      'glue:GetPartition',
    ]) {
      assert.equal(decide(p, action, glue('table/kubecost_db/kubecost_table')), 'allow', action)
      assert.equal(decide(p, action, glue('table/kubecost_db/other_table')), 'implicit-deny', action)
    }

    assert.equal(decide(p, 'glue:DeleteTable', glue('table/kubecost_db/kubecost_table')), 'implicit-deny')
    assert.equal(
      decide(
        p,
        'logs:PutLogEvents',
        'arn:aws:logs:eu-west-1:444455556666:log-group:/aws-glue/crawlers:log-stream:kubecost_crawler',
      ),
      'allow',
    )
    assert.equal(
      decide(p, 'logs:PutLogEvents', 'arn:aws:logs:eu-west-1:444455556666:log-group:/other:log-stream:x'),
      'implicit-deny',
    )
  })

  it('verify-bucket-policy reads the four bucket settings and changes nothing', () => {
    const p = op('verify-bucket-policy')
    for (const a of [
      's3:GetBucketPolicy',
      's3:GetEncryptionConfiguration',
      's3:GetBucketPublicAccessBlock',
      's3:GetBucketOwnershipControls',
    ]) {
      assert.equal(decide(p, a, `arn:aws:s3:::${BUCKET}`), 'allow', a)
      assert.equal(decide(p, a, 'arn:aws:s3:::other-bucket'), 'implicit-deny', a)
    }

    assert.equal(decide(p, 's3:PutBucketPolicy', `arn:aws:s3:::${BUCKET}`), 'implicit-deny')
  })

  it("backfill-plan lists this cluster's partition only, and writes nothing", () => {
    const p = op('backfill-plan')
    const layout = new Layout(CLUSTER, 'exports/kubecost')
    assert.deepEqual(actionsOf(p), ['s3:ListBucket'])
    assert.equal(decide(p, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, {'s3:prefix': layout.listingPrefix}), 'allow')
    assert.equal(decide(p, 's3:PutObject', `arn:aws:s3:::${BUCKET}/${layout.key(DAYS[0] as Day)}`), 'implicit-deny')
  })

  it('deploy-glue manages the database, table, view, crawler and workgroup, and passes the crawler role to Glue only', () => {
    const p = op('deploy-glue')
    assert.equal(decide(p, 'glue:CreateTable', glue('table/kubecost_db/kubecost_view')), 'allow')
    assert.equal(decide(p, 'glue:UpdateTable', glue('table/kubecost_db/kubecost_table')), 'allow')
    assert.equal(decide(p, 'glue:DeleteTable', glue('table/kubecost_db/kubecost_table')), 'implicit-deny')
    assert.equal(decide(p, 'glue:CreateCrawler', glue('crawler/kubecost_crawler')), 'allow')
    assert.equal(
      decide(p, 'athena:UpdateWorkGroup', 'arn:aws:athena:eu-west-1:444455556666:workgroup/kubecost'),
      'allow',
    )
    assert.equal(
      decide(p, 'athena:UpdateWorkGroup', 'arn:aws:athena:eu-west-1:444455556666:workgroup/primary'),
      'implicit-deny',
    )
    // --verify runs its query in the workgroup deploy-glue manages, and nowhere else.
    for (const action of ['athena:StartQueryExecution', 'athena:GetQueryExecution']) {
      assert.equal(decide(p, action, 'arn:aws:athena:eu-west-1:444455556666:workgroup/kubecost'), 'allow')
      assert.equal(decide(p, action, 'arn:aws:athena:eu-west-1:444455556666:workgroup/other'), 'implicit-deny')
    }
    const role = policies.crawlerRole.arn
    assert.equal(decide(p, 'iam:PassRole', role, {'iam:PassedToService': 'glue.amazonaws.com'}), 'allow')
    assert.equal(decide(p, 'iam:PassRole', role, {'iam:PassedToService': 'ec2.amazonaws.com'}), 'implicit-deny')
    assert.equal(
      decide(p, 'iam:PassRole', 'arn:aws:iam::444455556666:role/admin', {'iam:PassedToService': 'glue.amazonaws.com'}),
      'implicit-deny',
    )
  })

  it("crawl starts and watches the one crawler, and counts its table's partitions", () => {
    const p = op('crawl')
    assert.equal(decide(p, 'glue:StartCrawler', glue('crawler/kubecost_crawler')), 'allow')
    assert.equal(decide(p, 'glue:StartCrawler', glue('crawler/other')), 'implicit-deny')
    assert.deepEqual(actionsOf(p), [
      'glue:GetCrawler',
      'glue:GetCrawlerMetrics',
      'glue:GetPartitions',
      'glue:StartCrawler',
    ])
    assert.equal(decide(p, 'glue:GetPartitions', glue('table/kubecost_db/kubecost_table')), 'allow')
    assert.equal(decide(p, 'glue:GetPartitions', glue('table/kubecost_db/other')), 'implicit-deny')
  })

  it('refresh-dataset ingests into and schedules the one dataset', () => {
    const p = op('refresh-dataset')
    const ds = 'arn:aws:quicksight:eu-west-1:444455556666:dataset/e88edf48-f2cd-4c23-b6a4-e2b3034e2c41'
    assert.equal(decide(p, 'quicksight:CreateIngestion', `${ds}/ingestion/run-1`), 'allow')
    assert.equal(
      decide(
        p,
        'quicksight:CreateIngestion',
        'arn:aws:quicksight:eu-west-1:444455556666:dataset/other/ingestion/run-1',
      ),
      'implicit-deny',
    )
    assert.equal(decide(p, 'quicksight:CreateRefreshSchedule', ds), 'allow')
    assert.equal(decide(p, 'quicksight:DeleteDataSet', ds), 'implicit-deny')
  })

  it('without --workgroup, lets deploy-glue read and query primary but neither create nor change a workgroup', () => {
    const p = iamPolicies(base).operators.find(o => o.command === 'deploy-glue')?.policy
    assert.ok(p)
    const primary = 'arn:aws:athena:eu-west-1:111122223333:workgroup/primary'
    assert.equal(decide(p, 'athena:GetWorkGroup', primary), 'allow')
    assert.equal(decide(p, 'athena:StartQueryExecution', primary), 'allow')
    assert.equal(decide(p, 'athena:UpdateWorkGroup', primary), 'implicit-deny')
    assert.ok(!actionsOf(p).includes('athena:CreateWorkGroup'))
  })

  it("without --results-location, warns and grants --verify's result writes in Athena's former default location only", () => {
    const policies = iamPolicies(base)
    const p = policies.operators.find(o => o.command === 'deploy-glue')?.policy
    assert.ok(p)
    // The parent role is absent: the pipeline is the cluster's account and region.
    const results = 'arn:aws:s3:::aws-athena-query-results-111122223333-eu-west-1'
    assert.equal(decide(p, 's3:GetBucketLocation', results), 'allow')
    assert.equal(decide(p, 's3:PutObject', `${results}/Unsaved/2026/12/01/q-1.csv`), 'allow')
    assert.equal(
      decide(p, 's3:PutObject', 'arn:aws:s3:::aws-athena-query-results-999988887777-eu-west-1/q.csv'),
      'implicit-deny',
    )
    assert.equal(decide(p, 's3:PutObject', `arn:aws:s3:::${BUCKET}/q-1.csv`), 'implicit-deny')
    assert.equal(policies.warnings.length, 1)
    assert.match(
      namedDeep(policies, 'iam-policy').warnings[0] ?? '',
      /^No --results-location \(ATHENA_RESULTS_LOCATION\) given: .* deploy-glue --verify .* s3:\/\/aws-athena-query-results-111122223333-eu-west-1\/, where Athena put them by default, but workgroup primary may keep them elsewhere\. See where: aws athena get-work-group --work-group primary --query WorkGroup\.Configuration\.ResultConfiguration\.OutputLocation/,
    )
    assert.deepEqual(iamPolicies({...base, resultsLocation: 's3://results/'}).warnings, [])
  })

  it('with --results-kms-key, lets deploy-glue have S3 ask KMS for a data key for the results, and nothing more', () => {
    const key = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const p = (resultsKmsKey: string) =>
      iamPolicies({...base, parentRoleArn: PARENT, resultsLocation: 's3://results/', resultsKmsKey}).operators.find(
        o => o.command === 'deploy-glue',
      )?.policy as PolicyJson
    const viaS3 = {'kms:ViaService': 's3.eu-west-1.amazonaws.com'}
    assert.equal(decide(p(key), 'kms:GenerateDataKey', key, viaS3), 'allow')
    assert.equal(decide(p(key), 'kms:GenerateDataKey', key), 'implicit-deny')
    assert.equal(decide(p(key), 'kms:Decrypt', key, viaS3), 'implicit-deny')
    assert.equal(decide(p(key), 'kms:GenerateDataKey', `${key.slice(0, -1)}f`, viaS3), 'implicit-deny')
    // A key id is a key of the pipeline's account and region.
    assert.equal(decide(p('1234abcd-12ab-34cd-56ef-1234567890ab'), 'kms:GenerateDataKey', key, viaS3), 'allow')
    // An alias names no key: IAM matches the key by its aliases.
    for (const alias of ['alias/athena-results', 'arn:aws:kms:eu-west-1:444455556666:alias/athena-results']) {
      assert.equal(
        decide(p(alias), 'kms:GenerateDataKey', key, {...viaS3, 'kms:ResourceAliases': 'alias/athena-results'}),
        'allow',
        alias,
      )
      assert.equal(
        decide(p(alias), 'kms:GenerateDataKey', key, {...viaS3, 'kms:ResourceAliases': 'alias/other'}),
        'implicit-deny',
        alias,
      )
      assert.equal(decide(p(alias), 'kms:GenerateDataKey', key, viaS3), 'implicit-deny', alias)
    }
  })

  it('with --results-location, lets deploy-glue write query results there only', () => {
    const p = iamPolicies({
      ...base,
      workgroup: 'kubecost',
      resultsLocation: 's3://results-bucket/athena/',
    }).operators.find(o => o.command === 'deploy-glue')?.policy
    assert.ok(p)
    assert.equal(decide(p, 's3:PutObject', 'arn:aws:s3:::results-bucket/athena/q-1.csv'), 'allow')
    assert.equal(decide(p, 's3:PutObject', 'arn:aws:s3:::results-bucket/other/q-1.csv'), 'implicit-deny')
    assert.equal(decide(p, 's3:GetBucketLocation', 'arn:aws:s3:::results-bucket'), 'allow')
  })
})

describe('iam-policy: a customer-managed key on the bucket (--kms-key)', () => {
  const key = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab'
  const policies = iamPolicies({...base, parentRoleArn: PARENT, kmsKeyArn: key})
  const viaS3 = {'kms:ViaService': 's3.eu-west-1.amazonaws.com'}

  for (const [role, spec] of [
    ['the Glue crawler', policies.crawlerRole],
    ["QuickSight's role", policies.quicksightRole],
  ] as const) {
    it(`lets ${role} decrypt the files through S3, and neither encrypt nor use the key otherwise`, () => {
      const p = spec.permissionsPolicy
      assert.equal(decide(p, 'kms:Decrypt', key, viaS3), 'allow')
      assert.equal(decide(p, 'kms:Decrypt', key), 'implicit-deny')
      assert.equal(decide(p, 'kms:Decrypt', key, {'kms:ViaService': 'ec2.eu-west-1.amazonaws.com'}), 'implicit-deny')
      assert.equal(decide(p, 'kms:GenerateDataKey', key, viaS3), 'implicit-deny')
      assert.equal(decide(p, 'kms:Decrypt', key.replace('1234abcd', '9999abcd'), viaS3), 'implicit-deny')
    })
  }

  it('gives neither role a KMS statement without --kms-key', () => {
    const plain = iamPolicies({...base, parentRoleArn: PARENT})
    for (const spec of [plain.crawlerRole, plain.quicksightRole])
      assert.ok(!actionsOf(spec.permissionsPolicy).some(a => a.startsWith('kms:')), spec.name)
  })
})

describe("iam-policy: QuickSight's role", () => {
  const results = 's3://athena-results-444455556666/kubecost/'
  const policies = iamPolicies({...base, parentRoleArn: PARENT, resultsLocation: results})
  const role = policies.quicksightRole
  const p = role.permissionsPolicy
  const key = new Layout(CLUSTER, 'exports/kubecost').key(DAYS[0] as Day)

  it("is QuickSight's service role in the pipeline account, trusted by QuickSight only", () => {
    assert.equal(role.arn, 'arn:aws:iam::444455556666:role/service-role/aws-quicksight-service-role-v0')
    assert.equal(role.name, 'aws-quicksight-service-role-v0')
    assert.deepEqual(role.trustPolicy.Statement[0]?.Principal, {Service: 'quicksight.amazonaws.com'})
    assert.equal(role.trustPolicy.Statement[0]?.Action, 'sts:AssumeRole')
    assert.match(role.purpose, /Security & permissions/)
    const custom = 'arn:aws:iam::444455556666:role/quicksight-kubecost'
    const named = iamPolicies({...base, parentRoleArn: PARENT, quicksightRoleArn: custom}).quicksightRole
    assert.equal(named.arn, custom)
    assert.equal(named.name, 'quicksight-kubecost')
  })

  it('reads the exported files under the prefix and finds the bucket, and changes nothing there', () => {
    assert.equal(decide(p, 's3:GetObject', `arn:aws:s3:::${BUCKET}/${key}`), 'allow')
    assert.equal(
      decide(p, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, {'s3:prefix': 'exports/kubecost/account_id='}),
      'allow',
    )
    assert.equal(decide(p, 's3:GetBucketLocation', `arn:aws:s3:::${BUCKET}`), 'allow')
    assert.equal(decide(p, 's3:GetObject', `arn:aws:s3:::${BUCKET}/elsewhere/file`), 'implicit-deny')
    assert.equal(decide(p, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, {'s3:prefix': ''}), 'implicit-deny')
    for (const action of ['s3:PutObject', 's3:DeleteObject'])
      assert.equal(decide(p, action, `arn:aws:s3:::${BUCKET}/${key}`), 'implicit-deny', action)
  })

  it('writes and reads the query results in the result location, and no other', () => {
    const bucket = 'arn:aws:s3:::athena-results-444455556666'
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'])
      assert.equal(decide(p, action, `${bucket}/kubecost/q-1.csv`), 'allow', action)
    for (const action of ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'])
      assert.equal(decide(p, action, bucket), 'allow', action)
    assert.equal(decide(p, 's3:PutObject', `${bucket}/other/q-1.csv`), 'implicit-deny')
    assert.equal(decide(p, 's3:DeleteObject', `${bucket}/kubecost/q-1.csv`), 'implicit-deny')
    assert.equal(decide(p, 's3:PutObject', 'arn:aws:s3:::another-results/kubecost/q-1.csv'), 'implicit-deny')
  })

  it('with --results-kms-key, encrypts and decrypts the results through S3', () => {
    const resultsKey = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const withKey = iamPolicies({...base, parentRoleArn: PARENT, resultsLocation: results, resultsKmsKey: resultsKey})
      .quicksightRole.permissionsPolicy
    const viaS3 = {'kms:ViaService': 's3.eu-west-1.amazonaws.com'}
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      assert.equal(decide(withKey, action, resultsKey, viaS3), 'allow', action)
      assert.equal(decide(withKey, action, resultsKey), 'implicit-deny', action)
      assert.equal(decide(p, action, resultsKey, viaS3), 'implicit-deny', `${action} without the flag`)
    }
  })
})

describe('iam-policy: resources', () => {
  const full = iamPolicies({
    ...base,
    parentRoleArn: PARENT,
    caSecret: 'kubecost-ca',
    kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/k',
    workgroup: 'kubecost',
    resultsLocation: 's3://athena-results-444455556666/kubecost',
    resultsKmsKey: 'alias/athena-results',
  })

  // The only actions that IAM authorises on "*" alone: they take no resource.
  const UNSCOPED = ['athena:ListWorkGroups', 'glue:GetCrawlerMetrics', 'quicksight:ListDataSets']

  it('names a resource in every permission statement, and "*" only for the actions that take none', () => {
    for (const [name, policy] of allPolicies(full)) {
      for (const s of policy.Statement) {
        assert.ok(s.Resource, `${name} ${s.Sid} names no resource`)
        if ([s.Resource].flat().includes('*'))
          assert.ok(
            [s.Action].flat().every(a => UNSCOPED.includes(a)),
            `${name} ${s.Sid} grants ${String(s.Action)} on "*"`,
          )
      }
    }
  })

  it("uses wildcards only where the names are made at run time: the day in a key, a secret's suffix, log streams, ingestions, the crawled files, query results, the key behind an alias", () => {
    const allowed = [
      /^arn:aws:s3:::kubecost-data-444455556666\/exports\/kubecost\/account_id=111122223333\/region=eu-west-1\/year=\?{4}\/month=\?{2}\/\?{4}-\?{2}-\?{2}_prod\.snappy\.parquet$/,
      /^arn:aws:secretsmanager:eu-west-1:444455556666:secret:kubecost-ca-\?{6}$/,
      /^arn:aws:logs:eu-west-1:444455556666:log-group:\/aws-glue\/crawlers:log-stream:\*$/,
      /^arn:aws:quicksight:eu-west-1:444455556666:dataset\/[\w-]+\/ingestion\/\*$/,
      /^arn:aws:s3:::kubecost-data-444455556666\/exports\/kubecost\/\*$/,
      /^arn:aws:s3:::athena-results-444455556666\/kubecost\/\*$/,
      // Only with its kms:ResourceAliases condition, checked in the results-key test.
      /^arn:aws:kms:eu-west-1:444455556666:key\/\*$/,
    ]
    for (const [name, policy] of allPolicies(full)) {
      for (const resource of policy.Statement.flatMap(s => [s.Resource ?? []].flat()).filter(r => r !== '*')) {
        if (/[*?]/.test(resource))
          assert.ok(
            allowed.some(re => re.test(resource)),
            `${name}: unexpected wildcard in ${resource}`,
          )
      }
    }
  })
})

describe('iam-policy command', () => {
  const args = ['iam-policy', '--cluster-arn', CLUSTER.arn, '--bucket', BUCKET, '--prefix', 'exports/kubecost']

  it('prints every document as valid IAM JSON under --json', async () => {
    const r = await runCli([
      ...args,
      '--oidc-issuer',
      `https://${PROVIDER}`,
      '--parent-role-arn',
      PARENT,
      '--ca-cert-secret',
      'kubecost-ca',
      '--json',
    ])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as IamPolicies
    assert.equal(out.oidcProvider, PROVIDER)
    assert.match(out.warnings[0] ?? '', /^No --results-location \(ATHENA_RESULTS_LOCATION\) given/)
    assert.deepEqual(
      out,
      namedDeep(
        iamPolicies({
          ...base,
          parentRoleArn: PARENT,
          caSecret: 'kubecost-ca',
          datasetId: 'e88edf48-f2cd-4c23-b6a4-e2b3034e2c41',
        }),
        'iam-policy',
      ),
    )
    const docs = [
      out.exporterRole.trustPolicy,
      out.parentRole?.trustPolicy,
      out.crawlerRole.trustPolicy,
      out.quicksightRole.trustPolicy,
      ...allPolicies(out).map(([, p]) => p),
    ]
    for (const doc of docs) {
      assert.ok(doc)
      assert.equal(doc.Version, '2012-10-17')
      assert.ok(doc.Statement.length > 0)
      for (const s of doc.Statement) {
        assert.equal(s.Effect, 'Allow')
        assert.match(s.Sid, /^[A-Za-z0-9]+$/, 'IAM Sids are alphanumeric')
        assert.ok(
          s.Principal ? !s.Resource : s.Resource,
          'a trust statement names a principal, a permission statement a resource',
        )
      }
    }
  })

  it('prints headed text by default, the parent role only with role chaining', async () => {
    const plain = await runCli([...args, '--oidc-provider', `arn:aws:iam::111122223333:oidc-provider/${PROVIDER}`])
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, /^== Exporter role .*: arn:aws:iam::111122223333:role\/kubecost-s3-exporter-prod$/m)
    assert.match(plain.stdout, /^-- Trust policy$/m)
    assert.match(plain.stdout, /^== Glue crawler role: /m)
    assert.match(
      plain.stdout,
      /^== QuickSight's role \(reads the view through Athena\): arn:aws:iam::111122223333:role\/service-role\/aws-quicksight-service-role-v0$/m,
    )
    // No --results-location: said on stderr, once, and the documents on stdout stay pasteable.
    assert.match(
      plain.stderr,
      /^\S+ WARNING kubecost-s3-exporter: No --results-location \(ATHENA_RESULTS_LOCATION\) given: .*s3:\/\/aws-athena-query-results-111122223333-eu-west-1\//m,
    )
    assert.equal(plain.stderr.trim().split('\n').length, 1)
    for (const c of ['verify-bucket-policy', 'backfill-plan', 'deploy-glue', 'crawl', 'refresh-dataset'])
      assert.match(plain.stdout, new RegExp(`^== Operator: ${c}$`, 'm'))
    assert.doesNotMatch(plain.stdout, /Parent role/)
    const chained = await runCli([...args, '--oidc-provider', PROVIDER, '--parent-role-arn', PARENT])
    assert.match(chained.stdout, /^== Parent role .*: arn:aws:iam::444455556666:role\/kubecost-s3-exporter$/m)
  })

  it('logs its warning in the format LOG_FORMAT asks for, though it has no --log-format of its own', async () => {
    const r = await runCli([...args, '--oidc-provider', PROVIDER], {LOG_FORMAT: 'json'})
    assert.equal(r.code, 0, r.stderr)
    const line = JSON.parse(r.stderr) as {level: string; message: string}
    assert.equal(line.level, 'WARNING')
    assert.match(line.message, /^No --results-location \(ATHENA_RESULTS_LOCATION\) given/)
  })

  it('reads every setting from its environment variable, as it does from its flag', async () => {
    const settings: Array<[string, string, string]> = [
      ['--cluster-arn', 'CLUSTER_ID', CLUSTER.arn],
      ['--bucket', 'S3_BUCKET_NAME', BUCKET],
      ['--prefix', 'S3_PREFIX', 'exports/kubecost'],
      ['--oidc-provider', 'OIDC_PROVIDER', PROVIDER],
      ['--namespace', 'EXPORTER_NAMESPACE', 'cost'],
      ['--service-account', 'EXPORTER_SERVICE_ACCOUNT', 'exporter'],
      ['--role-name', 'EXPORTER_ROLE_NAME', 'cost-exporter'],
      ['--parent-role-arn', 'IRSA_PARENT_IAM_ROLE_ARN', PARENT],
      ['--ca-cert-secret', 'KUBECOST_CA_CERTIFICATE_SECRET_NAME', 'kubecost-ca'],
      ['--ca-cert-secret-region', 'KUBECOST_CA_CERTIFICATE_SECRET_REGION', 'eu-central-1'],
      ['--kms-key', 'S3_KMS_KEY_ARN', 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
      ['--pipeline-region', 'PIPELINE_REGION', 'us-east-2'],
      ['--dataset-id', 'QUICKSIGHT_DATASET_ID', 'kubecost-dataset'],
      ['--workgroup', 'ATHENA_WORKGROUP', 'kubecost'],
      ['--results-location', 'ATHENA_RESULTS_LOCATION', 's3://athena-results-444455556666/kubecost/'],
      [
        '--results-kms-key',
        'ATHENA_RESULTS_KMS_KEY',
        'arn:aws:kms:us-east-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      ],
      ['--quicksight-role-arn', 'QUICKSIGHT_ROLE_ARN', 'arn:aws:iam::444455556666:role/quicksight-kubecost'],
    ]
    const byFlags = await runCli(['iam-policy', ...settings.flatMap(([flag, , value]) => [flag, value]), '--json'])
    assert.equal(byFlags.code, 0, byFlags.stderr)
    const byEnv = await runCli(
      ['iam-policy', '--json'],
      Object.fromEntries(settings.map(([, env, value]) => [env, value])),
    )
    assert.equal(byEnv.code, 0, byEnv.stderr)
    assert.deepEqual(JSON.parse(byEnv.stdout), JSON.parse(byFlags.stdout))
    // Each setting changed the output, so none of them was silently ignored.
    const plain = JSON.stringify(JSON.parse(byFlags.stdout))
    for (const [flag, , value] of settings.slice(4))
      assert.ok(plain.includes(value.replace(/^s3:\/\//, '').replace(/\/$/, '')), `${flag} shows in the output`)
  })

  for (const [what, extra, message] of [
    [
      'no OIDC provider',
      [],
      /^Error: Exactly one of the following must be provided: --oidc-issuer \(OIDC_ISSUER\), --oidc-provider \(OIDC_PROVIDER\)$/m,
    ],
    [
      'both OIDC flags',
      ['--oidc-provider', PROVIDER, '--oidc-issuer', `https://${PROVIDER}`],
      /--oidc-issuer|--oidc-provider/,
    ],
    [
      "an issuer that is not EKS's",
      ['--oidc-issuer', 'https://example.com/id/X'],
      /Invalid --oidc-issuer \(OIDC_ISSUER\) "https:\/\/example.com\/id\/X": not an EKS OIDC issuer/,
    ],
    [
      'a KMS alias',
      ['--oidc-provider', PROVIDER, '--kms-key', 'alias/s3'],
      /Invalid --kms-key \(S3_KMS_KEY_ARN\) "alias\/s3": not a KMS key ARN/,
    ],
    [
      'a bad namespace',
      ['--oidc-provider', PROVIDER, '--namespace', 'Kube_Cost'],
      /Invalid --namespace \(EXPORTER_NAMESPACE\) "Kube_Cost"/,
    ],
    [
      'a bad parent role',
      ['--oidc-provider', PROVIDER, '--parent-role-arn', 'arn:aws:iam::1:user/x'],
      /Invalid --parent-role-arn \(IRSA_PARENT_IAM_ROLE_ARN\)/,
    ],
  ] as const) {
    it(`exits 2 on ${what}, naming the flag`, async () => {
      const r = await runCli([...args, ...extra])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stdout, '')
    })
  }
})
