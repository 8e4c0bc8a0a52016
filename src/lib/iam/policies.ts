import type {ClusterIdentity} from '../cluster.js'
import {SESSION_NAME} from '../aws/identity.js'
import {InvalidInputError} from '../errors.js'
import {Layout} from '../layout.js'
import {QUICKSIGHT_SERVICE_ROLE} from '../policy/principals.js'
import type {InputName} from '../validate.js'
import {flag, setting} from '../settings.js'

/**
 * The IAM roles and policies of one cluster's exporter and of the pipeline around it, least privilege:
 * each statement grants exactly the calls a command makes (src/lib/destination/s3.ts,
 * src/lib/kubecost/tls.ts, src/lib/aws/credentials.ts, src/lib/policy/bucket-settings.ts) on exactly
 * the resources it makes them on.
 */

export interface PolicyStatement {
  Sid: string
  Effect: 'Allow'
  Principal?: Record<string, string>
  Action: string | string[]
  Resource?: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

export interface PolicyJson {
  Version: '2012-10-17'
  Statement: PolicyStatement[]
}

export interface RoleSpec {
  /** What the role is for, in a sentence. */
  purpose: string
  name: string
  arn: string
  tags: Record<string, string>
  trustPolicy: PolicyJson
  permissionsPolicy: PolicyJson
}

export interface OperatorPolicy {
  command: string
  purpose: string
  policy: PolicyJson
}

export interface IamPolicies {
  cluster: string
  oidcProvider: string
  serviceAccount: string
  bucket: string
  prefix: string
  /** The IRSA role the pod's service account is annotated with. */
  exporterRole: RoleSpec
  /** With role chaining: the role in the bucket's account that the exporter role assumes. */
  parentRole?: RoleSpec
  crawlerRole: RoleSpec
  /** The role QuickSight reads the view with, through Athena. */
  quicksightRole: RoleSpec
  operators: OperatorPolicy[]
  /** What the policies had to assume, and how to say it instead. */
  warnings: string[]
}

export interface IamInput {
  cluster: ClusterIdentity
  /** `oidc.eks.<region>.amazonaws.com/id/<ID>`, without a scheme. */
  oidcProvider: string
  bucket: string
  prefix?: string
  namespace: string
  serviceAccount: string
  /** Name of the IRSA role; default kubecost-s3-exporter-<cluster>. */
  roleName?: string
  parentRoleArn?: string
  /** A Secrets Manager secret name or ARN holding Kubecost's CA bundle. */
  caSecret?: string
  caSecretRegion?: string
  kmsKeyArn?: string
  /** Region of Glue, Athena and QuickSight; default the cluster's. */
  pipelineRegion?: string
  database?: string
  table?: string
  crawler?: string
  crawlerRoleName?: string
  datasetId?: string
  /** The Athena workgroup deploy-glue creates and manages; without it, deploy-glue uses `primary`. */
  workgroup?: string
  /** `s3://bucket/prefix`: where the workgroup puts query results (deploy-glue's verification query). */
  resultsLocation?: string
  /** The KMS key (ARN, id or alias) the workgroup encrypts query results with (SSE-KMS). */
  resultsKmsKey?: string
  /** The role QuickSight reads S3 with; default the account's QuickSight service role. */
  quicksightRoleArn?: string
}

/** The tag verify-bucket-policy and the recommended bucket policy expect on exporter roles. */
export const EXPORTER_ROLE_TAG = {'irsa-kubecost-s3-exporter': 'true'} as const

export const DEFAULTS = {
  database: 'kubecost_db',
  table: 'kubecost_table',
  view: 'kubecost_view',
  crawler: 'kubecost_crawler',
  crawlerRoleName: 'kubecost_glue_crawler_role',
  datasetId: 'e88edf48-f2cd-4c23-b6a4-e2b3034e2c41',
} as const

const OIDC_PROVIDER_RE = /^oidc\.eks\.[a-z]{2}(?:-[a-z]+)+-\d+\.amazonaws\.com(?:\.cn)?\/id\/[A-Za-z0-9]+$/
const ROLE_ARN_RE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/
const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:key\/[A-Za-z0-9-]+$/
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:secret:[\w/+=.@-]+$/
const SECRET_NAME_RE = /^[\w/+=.@-]{1,512}$/
const DNS_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN_RE =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/
const ROLE_NAME_RE = /^[\w+=,.@-]{1,64}$/

/** The provider from `--oidc-provider` (bare, or its IAM ARN) or from the issuer URL EKS reports. */
export function parseOidcProvider(input: string, name: InputName): string {
  let value = input.trim()
  const arn = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/(.+)$/.exec(value)
  if (arn) value = arn[1] as string
  value = value.replace(/^https:\/\//, '').replace(/\/+$/, '')
  if (!OIDC_PROVIDER_RE.test(value)) {
    throw new InvalidInputError(name.flag, name.env, input, 'not an EKS OIDC issuer or provider', {
      suggestions: [
        'Give the issuer EKS reports: aws eks describe-cluster --name <cluster> --query cluster.identity.oidc.issuer --output text',
        'e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
      ],
    })
  }

  return value
}

export function parseNamespace(input: string, name: InputName): string {
  if (!DNS_LABEL_RE.test(input))
    throw new InvalidInputError(
      name.flag,
      name.env,
      input,
      'not a Kubernetes namespace name (lower-case letters, digits and "-", at most 63)',
    )
  return input
}

export function parseServiceAccountName(input: string, name: InputName): string {
  if (!DNS_SUBDOMAIN_RE.test(input))
    throw new InvalidInputError(
      name.flag,
      name.env,
      input,
      'not a Kubernetes service account name (a DNS subdomain: lower-case letters, digits, "-" and ".")',
    )
  return input
}

export function parseRoleName(input: string, name: InputName): string {
  if (!ROLE_NAME_RE.test(input))
    throw new InvalidInputError(
      name.flag,
      name.env,
      input,
      'not an IAM role name (1–64 of letters, digits and +=,.@_-)',
    )
  return input
}

export function parseKmsKeyArn(input: string, name: InputName): string {
  if (!KMS_KEY_ARN_RE.test(input.trim())) {
    throw new InvalidInputError(name.flag, name.env, input, 'not a KMS key ARN', {
      suggestions: [
        "Use the key's ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias: S3 asks KMS for the key by ARN.",
      ],
    })
  }

  return input.trim()
}

export function parseSecret(input: string, name: InputName): string {
  const value = input.trim()
  if (!SECRET_ARN_RE.test(value) && !SECRET_NAME_RE.test(value))
    throw new InvalidInputError(name.flag, name.env, input, 'not a Secrets Manager secret name or ARN')
  return value
}

const policy = (...statements: PolicyStatement[]): PolicyJson => ({Version: '2012-10-17', Statement: statements})

/**
 * Where Athena put query results when nobody had set a location, `aws-athena-query-results-<account>-<region>`:
 * Athena no longer creates it, but workgroups made back then still use it, and it is the only
 * location that can be named without asking Athena.
 */
const formerDefaultResultsLocation = (account: string, region: string) =>
  `s3://aws-athena-query-results-${account}-${region}/`

const KMS_ALIAS_RE = /^(?:arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):)?(alias\/[\w/-]+)$/

/**
 * What an IAM statement on a KMS key names for a key given as an ARN, an id or an alias. IAM
 * authorises cryptographic operations on the key itself, never on an alias: an alias is matched
 * through the kms:ResourceAliases condition on the keys of its account and region.
 */
export function kmsKeyResource(
  key: string,
  where: {partition: string; region: string; account: string},
): Pick<PolicyStatement, 'Resource' | 'Condition'> {
  const alias = KMS_ALIAS_RE.exec(key)
  if (alias) {
    const [, region = where.region, account = where.account, name = ''] = alias
    return {
      Resource: `arn:${where.partition}:kms:${region}:${account}:key/*`,
      Condition: {'ForAnyValue:StringEquals': {'kms:ResourceAliases': name}},
    }
  }

  return {
    Resource: key.startsWith('arn:') ? key : `arn:${where.partition}:kms:${where.region}:${where.account}:key/${key}`,
  }
}

/** A KMS statement for calls S3 makes on the caller's behalf (SSE-KMS), and for no other service. */
function throughS3(
  Sid: string,
  Action: string | string[],
  key: Pick<PolicyStatement, 'Resource' | 'Condition'>,
  partition: string,
): PolicyStatement {
  const viaS3 = {'kms:ViaService': `s3.*.amazonaws.com${partition === 'aws-cn' ? '.cn' : ''}`}
  return {Sid, Effect: 'Allow', Action, Resource: key.Resource, Condition: {...key.Condition, StringLike: viaS3}}
}

/** A location `s3://bucket/prefix` as IAM names it: the bucket's ARN, and the pattern of the keys under it. */
function s3Location(location: string, partition: string): {bucket: string; objects: string} {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location)
  if (!match) throw InvalidInputError.of('resultsLocation', location, 'not an S3 location')
  const prefix = match[2] ? `${match[2].replace(/\/+$/, '')}/` : ''
  const bucket = `arn:${partition}:s3:::${match[1] as string}`
  return {bucket, objects: `${bucket}/${prefix}*`}
}

/** The name the IRSA role gets unless told otherwise, kept within IAM's 64 characters. */
export function defaultRoleName(cluster: ClusterIdentity): string {
  return `kubecost-s3-exporter-${cluster.name}`.slice(0, 64)
}

export function iamPolicies(input: IamInput): IamPolicies {
  const {cluster} = input
  const p = cluster.partition
  const layout = new Layout(cluster, input.prefix ?? '')
  const bucketArn = `arn:${p}:s3:::${input.bucket}`
  const parent = input.parentRoleArn === undefined ? undefined : ROLE_ARN_RE.exec(input.parentRoleArn)
  if (input.parentRoleArn !== undefined && !parent)
    throw InvalidInputError.of('parentRoleArn', input.parentRoleArn, 'not an IAM role ARN')
  // The pipeline (bucket, Glue, Athena, QuickSight) lives in the parent role's account when chaining.
  const pipelineAccount = parent ? (parent[2] as string) : cluster.accountId
  const pipelineRegion = input.pipelineRegion ?? cluster.region
  const roleName = input.roleName ?? defaultRoleName(cluster)
  const exporterArn = `arn:${p}:iam::${cluster.accountId}:role/${roleName}`
  const subject = `system:serviceaccount:${input.namespace}:${input.serviceAccount}`

  // The key of any day of this cluster, and nothing else: `?` is exactly one character, so neither
  // another cluster's name ending in this one's nor a file in another folder matches.
  const dayKeys = `${bucketArn}/${layout.listingPrefix}year=????/month=??/????-??-??_${cluster.name}.snappy.parquet`
  const listing: PolicyStatement = {
    Sid: 'ListThisClustersPartition',
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: bucketArn,
    Condition: {StringLike: {'s3:prefix': `${layout.listingPrefix}*`}},
  }
  const exporterS3: PolicyStatement[] = [
    listing,
    {Sid: 'PutThisClustersDays', Effect: 'Allow', Action: 's3:PutObject', Resource: dayKeys},
  ]
  const dataKey = input.kmsKeyArn === undefined ? undefined : {Resource: input.kmsKeyArn}
  // SSE-KMS: a single-part PutObject needs a data key, and only through S3.
  if (dataKey) exporterS3.push(throughS3('EncryptWithBucketKey', 'kms:GenerateDataKey', dataKey, p))

  if (input.caSecret) {
    // A secret's ARN ends in six random characters that the name does not carry.
    const secretArn = SECRET_ARN_RE.test(input.caSecret)
      ? input.caSecret
      : `arn:${p}:secretsmanager:${input.caSecretRegion ?? cluster.region}:${pipelineAccount}:secret:${input.caSecret}-??????`
    exporterS3.push({
      Sid: 'ReadKubecostCaBundle',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: secretArn,
    })
  }

  const exporterRole: RoleSpec = {
    purpose: `IRSA role of service account ${input.namespace}/${input.serviceAccount} in cluster ${cluster.name}`,
    name: roleName,
    arn: exporterArn,
    tags: parent ? {} : {...EXPORTER_ROLE_TAG},
    trustPolicy: policy({
      Sid: 'ExporterServiceAccount',
      Effect: 'Allow',
      Principal: {Federated: `arn:${p}:iam::${cluster.accountId}:oidc-provider/${input.oidcProvider}`},
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {[`${input.oidcProvider}:aud`]: 'sts.amazonaws.com', [`${input.oidcProvider}:sub`]: subject},
      },
    }),
    permissionsPolicy: parent
      ? policy({Sid: 'AssumeParentRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: input.parentRoleArn})
      : policy(...exporterS3),
  }

  const parentRole: RoleSpec | undefined = parent
    ? {
        purpose: `role in account ${pipelineAccount} that the exporter of cluster ${cluster.name} assumes (session ${SESSION_NAME})`,
        name: parent[3] as string,
        arn: input.parentRoleArn as string,
        tags: {...EXPORTER_ROLE_TAG},
        trustPolicy: policy({
          Sid: 'ExporterRoleOfCluster',
          Effect: 'Allow',
          Principal: {AWS: exporterArn},
          Action: 'sts:AssumeRole',
          Condition: {StringEquals: {'sts:RoleSessionName': SESSION_NAME}},
        }),
        permissionsPolicy: policy(...exporterS3),
      }
    : undefined

  const glue = (resource: string) => `arn:${p}:glue:${pipelineRegion}:${pipelineAccount}:${resource}`
  const database = input.database ?? DEFAULTS.database
  const table = input.table ?? DEFAULTS.table
  const crawler = input.crawler ?? DEFAULTS.crawler
  const crawlerRoleName = input.crawlerRoleName ?? DEFAULTS.crawlerRoleName
  const crawlerRoleArn = `arn:${p}:iam::${pipelineAccount}:role/${crawlerRoleName}`
  const dataPrefix = layout.prefix ? `${layout.prefix}/` : ''
  const logGroup = `arn:${p}:logs:${pipelineRegion}:${pipelineAccount}:log-group:/aws-glue/crawlers`
  const tableResources = [glue('catalog'), glue(`database/${database}`), glue(`table/${database}/${table}`)]

  const crawlerRole: RoleSpec = {
    purpose: `Glue crawler ${crawler}: adds the new year/month partitions of s3://${input.bucket}/${dataPrefix} to ${database}.${table}`,
    name: crawlerRoleName,
    arn: crawlerRoleArn,
    tags: {},
    trustPolicy: policy({
      Sid: 'GlueService',
      Effect: 'Allow',
      Principal: {Service: 'glue.amazonaws.com'},
      Action: 'sts:AssumeRole',
    }),
    permissionsPolicy: policy(
      {Sid: 'ReadExportedFiles', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/${dataPrefix}*`},
      {
        Sid: 'ListExportedFiles',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        ...(dataPrefix ? {Condition: {StringLike: {'s3:prefix': `${dataPrefix}*`}}} : {}),
      },
      {
        Sid: 'UpdateTablePartitions',
        Effect: 'Allow',
        Action: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetPartition',
          'glue:CreatePartition',
          'glue:UpdatePartition',
          'glue:BatchCreatePartition',
          'glue:BatchUpdatePartition',
          'glue:BatchGetPartition',
        ],
        Resource: tableResources,
      },
      // SSE-KMS: reading a file is decrypting its data key, which S3 asks KMS for as the reader.
      ...(dataKey ? [throughS3('DecryptExportedFiles', 'kms:Decrypt', dataKey, p)] : []),
      {Sid: 'CrawlerLogGroup', Effect: 'Allow', Action: 'logs:CreateLogGroup', Resource: logGroup},
      // Stream names are chosen by the crawler at run time.
      {
        Sid: 'CrawlerLogStreams',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `${logGroup}:log-stream:*`,
      },
    ),
  }

  const datasetId = input.datasetId ?? DEFAULTS.datasetId
  const dataset = `arn:${p}:quicksight:${pipelineRegion}:${pipelineAccount}:dataset/${datasetId}`
  const crawlerArn = glue(`crawler/${crawler}`)
  const workgroup = `arn:${p}:athena:${pipelineRegion}:${pipelineAccount}:workgroup/${input.workgroup ?? 'primary'}`
  const warnings: string[] = []
  const workgroupName = input.workgroup ?? 'primary'
  const resultsLocation = input.resultsLocation ?? formerDefaultResultsLocation(pipelineAccount, pipelineRegion)
  if (input.resultsLocation === undefined) {
    warnings.push(
      `No ${setting('resultsLocation')} given: the policies of deploy-glue ${flag('verify')} and of QuickSight's role let them write query results to ${resultsLocation}, where Athena put them by default, but workgroup ${workgroupName} may keep them elsewhere. See where: aws athena get-work-group --work-group ${workgroupName} --query WorkGroup.Configuration.ResultConfiguration.OutputLocation, and give that location as ${setting('resultsLocation')}.`,
    )
  }

  const results = s3Location(resultsLocation, p)
  const kmsWhere = {partition: p, region: pipelineRegion, account: pipelineAccount}
  const resultsKey = input.resultsKmsKey === undefined ? undefined : kmsKeyResource(input.resultsKmsKey, kmsWhere)
  // ListWorkGroups and GetCrawlerMetrics name no resource: IAM authorises them only on "*".
  const listWorkgroups: PolicyStatement = {
    Sid: 'FindWorkgroup',
    Effect: 'Allow',
    Action: 'athena:ListWorkGroups',
    Resource: '*',
  }
  const operators: OperatorPolicy[] = [
    {
      command: 'verify-bucket-policy',
      purpose: 'reads the bucket policy, default encryption, public access block and object ownership',
      policy: policy({
        Sid: 'ReadBucketSettings',
        Effect: 'Allow',
        Action: [
          's3:GetBucketPolicy',
          's3:GetEncryptionConfiguration',
          's3:GetBucketPublicAccessBlock',
          's3:GetBucketOwnershipControls',
        ],
        Resource: bucketArn,
      }),
    },
    {
      command: 'backfill-plan',
      purpose: 'lists the days this cluster already has in the bucket (and asks Kubecost, which needs no IAM)',
      policy: policy(listing),
    },
    {
      command: 'deploy-glue',
      purpose: `creates or updates ${database}, ${table}, the view ${DEFAULTS.view} and crawler ${crawler} (running as ${crawlerRoleName}), checks workgroup ${workgroupName}${input.workgroup ? ' (created or updated)' : ''}, lists the table location for foreign files and queries the view (its results go to ${resultsLocation})`,
      policy: policy(
        {
          Sid: 'DatabaseTableAndView',
          Effect: 'Allow',
          Action: ['glue:GetDatabase', 'glue:CreateDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
          Resource: [...tableResources, glue(`table/${database}/${DEFAULTS.view}`)],
        },
        // --verify: Athena plans the query over the view with the caller's own credentials.
        {
          Sid: 'QueryReadsPartitions',
          Effect: 'Allow',
          Action: 'glue:GetPartitions',
          Resource: tableResources,
        },
        // The managed-by tag tells deploy-glue's crawler from anyone else's: read, set at creation, added on adoption.
        {
          Sid: 'Crawler',
          Effect: 'Allow',
          Action: ['glue:GetCrawler', 'glue:CreateCrawler', 'glue:UpdateCrawler', 'glue:GetTags', 'glue:TagResource'],
          Resource: crawlerArn,
        },
        {
          Sid: 'PassCrawlerRoleToGlue',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: crawlerRoleArn,
          Condition: {StringEquals: {'iam:PassedToService': 'glue.amazonaws.com'}},
        },
        // The crawler fails on files that are not the exporter's: deploy-glue looks for them.
        {
          Sid: 'ListTableLocation',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: bucketArn,
          ...(dataPrefix ? {Condition: {StringLike: {'s3:prefix': `${dataPrefix}*`}}} : {}),
        },
        listWorkgroups,
        {
          Sid: 'AthenaWorkgroup',
          Effect: 'Allow',
          Action: [
            'athena:GetWorkGroup',
            ...(input.workgroup
              ? ['athena:CreateWorkGroup', 'athena:UpdateWorkGroup', 'athena:ListTagsForResource', 'athena:TagResource']
              : []),
            'athena:StartQueryExecution',
            'athena:GetQueryExecution',
          ],
          Resource: workgroup,
        },
        // Athena writes a query's results as the caller who started it.
        {Sid: 'QueryResultLocation', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: results.bucket},
        {Sid: 'WriteQueryResults', Effect: 'Allow', Action: 's3:PutObject', Resource: results.objects},
        // SSE-KMS results: S3 asks KMS for a data key as that caller.
        ...(resultsKey ? [throughS3('EncryptQueryResults', 'kms:GenerateDataKey', resultsKey, p)] : []),
      ),
    },
    {
      command: 'crawl',
      purpose: `starts crawler ${crawler} (or attaches to its running crawl), polls it until it is done and reads the partitions it added`,
      policy: policy(
        {Sid: 'RunCrawler', Effect: 'Allow', Action: ['glue:GetCrawler', 'glue:StartCrawler'], Resource: crawlerArn},
        {Sid: 'CrawlMetrics', Effect: 'Allow', Action: 'glue:GetCrawlerMetrics', Resource: '*'},
        {Sid: 'ReadPartitions', Effect: 'Allow', Action: 'glue:GetPartitions', Resource: tableResources},
      ),
    },
    {
      command: 'refresh-dataset',
      purpose: `starts and polls a SPICE ingestion of dataset ${datasetId}; ${flag('configureSchedule')} sets its incremental refresh, after crawler ${crawler}'s schedule`,
      policy: policy(
        {
          Sid: 'Ingestions',
          Effect: 'Allow',
          Action: ['quicksight:ListIngestions', 'quicksight:CreateIngestion', 'quicksight:DescribeIngestion'],
          Resource: `${dataset}/ingestion/*`,
        },
        {
          Sid: 'RefreshSchedule',
          Effect: 'Allow',
          Action: [
            'quicksight:DescribeDataSet',
            'quicksight:DescribeDataSetRefreshProperties',
            'quicksight:PutDataSetRefreshProperties',
            'quicksight:ListRefreshSchedules',
            'quicksight:CreateRefreshSchedule',
            'quicksight:UpdateRefreshSchedule',
          ],
          Resource: dataset,
        },
        // A dataset id that is not found: the error names the account's datasets that look like it.
        {Sid: 'SuggestDatasets', Effect: 'Allow', Action: 'quicksight:ListDataSets', Resource: '*'},
        // The refresh should start well after the crawler's daily run: its schedule is read.
        {Sid: 'CrawlerSchedule', Effect: 'Allow', Action: 'glue:GetCrawler', Resource: crawlerArn},
      ),
    },
  ]

  const quicksightRole = quicksightRoleSpec({
    partition: p,
    account: pipelineAccount,
    roleArn: input.quicksightRoleArn,
    view: `${database}.${DEFAULTS.view}`,
    bucketArn,
    dataPrefix,
    dataKey,
    results,
    resultsLocation,
    resultsKey,
  })

  return {
    cluster: cluster.arn,
    oidcProvider: input.oidcProvider,
    serviceAccount: `${input.namespace}/${input.serviceAccount}`,
    bucket: input.bucket,
    prefix: layout.prefix,
    exporterRole,
    ...(parentRole ? {parentRole} : {}),
    crawlerRole,
    quicksightRole,
    operators,
    warnings,
  }
}

/**
 * QuickSight queries the view through Athena as its role, so that role reads the exported files and
 * writes and reads the query results itself. QuickSight grants this in its console ("Security &
 * permissions": Amazon Athena, and the S3 buckets), which attaches AWS's AWSQuicksightAthenaAccess
 * (Athena, the Glue catalog, and only buckets named aws-athena-query-results-*); no API does it.
 * These statements are what that leaves out: this bucket and prefix, its KMS key, a result location
 * of another name, and the results' KMS key.
 */
function quicksightRoleSpec(r: {
  partition: string
  account: string
  roleArn: string | undefined
  view: string
  bucketArn: string
  dataPrefix: string
  dataKey: Pick<PolicyStatement, 'Resource'> | undefined
  results: {bucket: string; objects: string}
  resultsLocation: string
  resultsKey: Pick<PolicyStatement, 'Resource' | 'Condition'> | undefined
}): RoleSpec {
  const arn = r.roleArn ?? `arn:${r.partition}:iam::${r.account}:role/${QUICKSIGHT_SERVICE_ROLE}`
  const buckets = [...new Set([r.bucketArn, r.results.bucket])]
  return {
    purpose: `QuickSight reads ${r.view} through Athena as this role. Grant it Athena and the buckets in QuickSight's Security & permissions (no API does), and attach these statements for what that leaves out: the exported files, their key, and the query results in ${r.resultsLocation}`,
    name: arn.replace(/^.*\//, ''),
    arn,
    tags: {},
    trustPolicy: policy({
      Sid: 'QuickSightService',
      Effect: 'Allow',
      Principal: {Service: 'quicksight.amazonaws.com'},
      Action: 'sts:AssumeRole',
    }),
    permissionsPolicy: policy(
      {Sid: 'ReadExportedFiles', Effect: 'Allow', Action: 's3:GetObject', Resource: `${r.bucketArn}/${r.dataPrefix}*`},
      {
        Sid: 'ListExportedFiles',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: r.bucketArn,
        ...(r.dataPrefix ? {Condition: {StringLike: {'s3:prefix': `${r.dataPrefix}*`}}} : {}),
      },
      {Sid: 'FindBuckets', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: buckets},
      ...(r.dataKey ? [throughS3('DecryptExportedFiles', 'kms:Decrypt', r.dataKey, r.partition)] : []),
      {
        Sid: 'QueryResultsBucket',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
        Resource: r.results.bucket,
      },
      {
        Sid: 'QueryResults',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: r.results.objects,
      },
      ...(r.resultsKey
        ? [throughS3('QueryResultsKey', ['kms:GenerateDataKey', 'kms:Decrypt'], r.resultsKey, r.partition)]
        : []),
    ),
  }
}

const json = (value: unknown) => JSON.stringify(value, null, 2)

function roleText(title: string, role: RoleSpec): string[] {
  const tags = Object.entries(role.tags).map(([k, v]) => `${k}=${v}`)
  return [
    `== ${title}: ${role.arn}`,
    role.purpose,
    ...(tags.length > 0 ? [`Tags: ${tags.join(', ')}`] : []),
    '',
    '-- Trust policy',
    json(role.trustPolicy),
    '',
    '-- Permissions policy',
    json(role.permissionsPolicy),
    '',
  ]
}

/** The policies for people: one heading per role and command, each document as pasteable JSON. */
export function iamPoliciesText(policies: IamPolicies): string {
  return [
    `IAM for cluster ${policies.cluster}, service account ${policies.serviceAccount}, s3://${policies.bucket}/${policies.prefix ? `${policies.prefix}/` : ''}`,
    '',
    ...roleText('Exporter role (IRSA; annotate the service account with it)', policies.exporterRole),
    ...(policies.parentRole
      ? roleText("Parent role (role chaining; in the bucket's account)", policies.parentRole)
      : []),
    ...roleText('Glue crawler role', policies.crawlerRole),
    ...roleText("QuickSight's role (reads the view through Athena)", policies.quicksightRole),
    ...policies.operators.flatMap(o => [`== Operator: ${o.command}`, o.purpose, '', json(o.policy), '']),
  ]
    .join('\n')
    .trimEnd()
}
