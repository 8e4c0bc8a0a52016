/** Glue and Athena: the catalog names, the crawler, the view and the workgroup (deploy-glue, crawl). */
import {Flags, type Interfaces} from '@oclif/core'

import {InvalidInputError} from '../lib/errors.js'
import {DEFAULT_CRAWLER_SCHEDULE, type DeployConfig} from '../lib/glue/definitions.js'
import {
  type InputName,
  parseBucketName,
  parsePositiveInteger,
  parseRegion,
  parseRoleArn,
  parseSeconds,
} from '../lib/validate.js'
import {awsCallFlags} from './aws.js'
import {input, pollFlag} from './common.js'
import {destinationFlags} from './destination.js'
import {keyList} from './kubecost.js'
import {logFlags} from './output.js'

/** Glue stores catalog names lower-case, and Athena needs them without quotes: letters, digits, underscores. */
export function parseCatalogName(value: string, name: InputName): string {
  const trimmed = value.trim()
  if (!/^[A-Za-z0-9_]{1,255}$/.test(trimmed))
    throw new InvalidInputError(name.flag, name.env, value, 'use letters, digits and underscores only')
  return trimmed.toLowerCase()
}

export function parseCrawlerName(value: string, name: InputName): string {
  const trimmed = value.trim()
  if (!/^[\w-]{1,255}$/.test(trimmed))
    throw new InvalidInputError(name.flag, name.env, value, 'use letters, digits, "-" and "_" only')
  return trimmed
}

export function parseWorkgroupName(value: string, name: InputName): string {
  const trimmed = value.trim()
  if (!/^[\w.-]{1,128}$/.test(trimmed))
    throw new InvalidInputError(name.flag, name.env, value, 'use letters, digits, ".", "-" and "_" only')
  return trimmed
}

export function parseGlueCron(value: string, name: InputName): string {
  if (!/^cron\(\S+( \S+){5}\)$/.test(value.trim()))
    throw new InvalidInputError(name.flag, name.env, value, 'not a Glue cron expression such as cron(0 1 * * ? *)')
  return value.trim()
}

export function parseS3Location(value: string, name: InputName): string {
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(value.trim()))
    throw new InvalidInputError(name.flag, name.env, value, 'not an S3 location such as s3://my-bucket/athena-results/')
  return value.trim()
}

export function parseKmsKey(value: string, name: InputName): string {
  if (!/^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+|alias\/[\w/-]+|[0-9a-f-]{36})$/.test(value.trim()))
    throw new InvalidInputError(name.flag, name.env, value, 'not a KMS key ARN, id or alias')
  return value.trim()
}

const catalogFlag = (flag: string, env: string, fallback: string, description: string) =>
  Flags.string({...input({flag, env}, parseCatalogName), description, default: fallback})

export const crawlerFlag = Flags.string({
  ...input({flag: 'crawler', env: 'GLUE_CRAWLER'}, parseCrawlerName),
  description: "Glue crawler that adds each day's partitions",
  default: 'kubecost_crawler',
})

export const glueRegionFlag = (what: string) =>
  Flags.string({
    ...input({flag: 'region', env: 'GLUE_REGION'}, parseRegion),
    description: `region of the ${what} [default: AWS_REGION, then AWS_DEFAULT_REGION, then the region of the profile (AWS_PROFILE) in the shared config file]`,
  })

/** What deploy-glue creates in the Glue catalog, and how it may change it. */
export const catalogFlags = {
  database: catalogFlag('database', 'GLUE_DATABASE', 'kubecost_db', 'Glue database'),
  table: catalogFlag('table', 'GLUE_TABLE', 'kubecost_table', 'Glue table over the exported files'),
  crawler: crawlerFlag,
  'crawler-role-arn': Flags.string({
    ...input({flag: 'crawler-role-arn', env: 'CRAWLER_ROLE_ARN'}, parseRoleArn),
    description:
      'role the crawler runs as (required to create the crawler; an existing crawler keeps its role when omitted)',
  }),
  'crawler-schedule': Flags.string({
    ...input({flag: 'crawler-schedule', env: 'CRAWLER_SCHEDULE'}, parseGlueCron),
    description: "crawler schedule (UTC): an hour after the exporters' 00:00 run",
    default: DEFAULT_CRAWLER_SCHEDULE,
  }),
  view: catalogFlag('view', 'ATHENA_VIEW', 'kubecost_view', 'Athena view the QuickSight dataset reads'),
  'view-months': Flags.custom<number>({...input({flag: 'view-months', env: 'VIEW_MONTHS'}, parsePositiveInteger)})({
    description: 'the view returns rows whose window.start is within this many months',
    default: 6,
  }),
  'allow-column-removal': Flags.boolean({
    env: 'ALLOW_COLUMN_REMOVAL',
    description: 'let the table drop label/annotation columns no longer listed (Athena then stops seeing that data)',
    default: false,
  }),
  adopt: Flags.boolean({
    env: 'GLUE_ADOPT',
    description:
      'take over a database, table, view, crawler or workgroup of these names that deploy-glue did not create: update it in place and mark it as its own',
    default: false,
  }),
  'dry-run': Flags.boolean({
    env: 'DRY_RUN',
    description: 'read the state and print the plan; change nothing',
    default: false,
  }),
  check: Flags.boolean({
    env: 'GLUE_CHECK',
    description: 'like --dry-run, and exit 1 when anything would change (drift detection in CI)',
    default: false,
  }),
}

/** The KMS key of the workgroup's query results: deploy-glue sets it, iam-policy grants its use. */
export const resultsKmsKeyFlag = (options: {description: string; dependsOn?: string[]}) =>
  Flags.string({...input({flag: 'results-kms-key', env: 'ATHENA_RESULTS_KMS_KEY'}, parseKmsKey), ...options})

/** The Athena workgroup the dashboard's queries run in, and the one deploy-glue may create. */
export const workgroupFlags = {
  'athena-workgroup': Flags.string({
    ...input({flag: 'athena-workgroup', env: 'ATHENA_WORKGROUP'}, parseWorkgroupName),
    description: "the workgroup the dashboard's queries run in: checked for a query result location",
    default: 'primary',
  }),
  'create-workgroup': Flags.string({
    ...input({flag: 'create-workgroup', env: 'CREATE_ATHENA_WORKGROUP'}, parseWorkgroupName),
    description: 'create (or update) this workgroup, with --results-location, enforced configuration and encryption',
    dependsOn: ['results-location'],
  }),
  'results-location': Flags.string({
    ...input({flag: 'results-location', env: 'ATHENA_RESULTS_LOCATION'}, parseS3Location),
    description: 'query result location of --create-workgroup',
    dependsOn: ['create-workgroup'],
  }),
  'results-kms-key': resultsKmsKeyFlag({
    description: "encrypt --create-workgroup's results with this KMS key (SSE-KMS) [default: SSE-S3]",
    dependsOn: ['create-workgroup'],
  }),
}

/** deploy-glue --verify: an Athena query over the view it wrote. */
export const verifyFlags = {
  verify: Flags.boolean({
    env: 'VERIFY_VIEW',
    description:
      'after writing the view, run SELECT * FROM "<database>"."<view>" LIMIT 0 in the workgroup: proves Athena can read it',
    default: false,
  }),
  'verify-timeout': Flags.custom<number>({...input({flag: 'verify-timeout', env: 'VERIFY_TIMEOUT'}, parseSeconds)})({
    description: 'how long to wait for the --verify query, in seconds',
    default: 300_000,
    defaultHelp: async () => '300',
  }),
  'poll-ms': pollFlag,
}

/** deploy-glue's flags: the bucket and the extra columns, the catalog, the workgroup and the verification. */
export const deployGlueFlags = {
  bucket: Flags.string({
    ...input({flag: 'bucket', env: 'S3_BUCKET_NAME'}, parseBucketName),
    description: 'the bucket the exporters write to',
    required: true,
  }),
  prefix: destinationFlags.prefix,
  labels: keyList(
    'labels',
    'LABELS',
    'comma-separated label keys: the union of what the clusters export, in the order given',
  ),
  annotations: keyList(
    'annotations',
    'ANNOTATIONS',
    'comma-separated annotation keys: the union of what the clusters export',
  ),
  ...catalogFlags,
  region: glueRegionFlag('Glue catalog'),
  ...workgroupFlags,
  ...verifyFlags,
  's3-endpoint': destinationFlags['s3-endpoint'],
  ...awsCallFlags('Glue, Athena, S3, STS'),
  ...logFlags,
}

/** The resources deploy-glue is to make, as its flags describe them. */
export function deployConfig(flags: Interfaces.InferredFlags<typeof deployGlueFlags>): DeployConfig {
  return {
    bucket: flags.bucket,
    prefix: flags.prefix,
    extra: {labels: flags.labels ?? [], annotations: flags.annotations ?? []},
    database: flags.database,
    table: flags.table,
    crawler: flags.crawler,
    crawlerRoleArn: flags['crawler-role-arn'],
    crawlerSchedule: flags['crawler-schedule'],
    view: flags.view,
    viewMonths: flags['view-months'],
  }
}
