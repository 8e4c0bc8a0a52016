import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {destinationFlags, input, keyList, logFlags} from '../flags.js'
import {AwsError, InvalidInputError} from '../lib/errors.js'
import {DEFAULT_CRAWLER_SCHEDULE, type DeployConfig} from '../lib/glue/definitions.js'
import {type ResourceOutcome, applyPlan, outcome, outcomeLine, planDeployment} from '../lib/glue/deploy.js'
import {foreignKeys} from '../lib/glue/foreign.js'
import {planWorkgroup} from '../lib/glue/workgroup.js'
import {type InputName, parseBucketName, parsePositiveInteger, parseRegion, parseRoleArn} from '../lib/validate.js'

const B = 'kubecost-data-111122223333'
const ROLE = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'
/** How many keys of the table location are looked at for foreign objects. */
const LISTING_LIMIT = 100_000

/** Glue stores catalog names lower-case, and Athena needs them without quotes: letters, digits, underscores. */
function catalogName(value: string, name: InputName): string {
  const trimmed = value.trim()
  if (!/^[A-Za-z0-9_]{1,255}$/.test(trimmed))
    throw new InvalidInputError(name.flag, name.env, value, 'use letters, digits and underscores only')
  return trimmed.toLowerCase()
}

const nameFlag = (flag: string, env: string, fallback: string, description: string) =>
  Flags.string({
    ...input({flag, env}, flag === 'crawler' ? (v, n) => crawlerName(v, n) : catalogName),
    description,
    default: fallback,
  })

function workgroupName(value: string, name: InputName): string {
  const trimmed = value.trim()
  if (!/^[\w.-]{1,128}$/.test(trimmed))
    throw new InvalidInputError(name.flag, name.env, value, 'use letters, digits, ".", "-" and "_" only')
  return trimmed
}

function crawlerName(value: string, name: InputName): string {
  const trimmed = value.trim()
  if (!/^[\w-]{1,255}$/.test(trimmed))
    throw new InvalidInputError(name.flag, name.env, value, 'use letters, digits, "-" and "_" only')
  return trimmed
}

export interface DeployResult {
  dryRun: boolean
  resources: ResourceOutcome[]
  /** Objects under the table location that are not exporter files (up to 5 examples). */
  foreignObjects: {count: number; examples: string[]; truncated: boolean}
  warnings: string[]
}

export default class DeployGlue extends BaseCommand {
  static override summary = 'Create or update the Glue database, table, Athena view and crawler the dashboard reads'
  static override description = [
    "The table is derived from the exporter's own column list (the 58 contract columns, then one column per --labels and --annotations key), so it can never drift from the files. Each resource is read, then created, updated where it differs (the line says what changed), or left alone; a second run reports every resource unchanged.",
    'Removing a label or annotation column is refused unless --allow-column-removal is given: Athena would stop seeing that data. --dry-run prints the plan and changes nothing; --check does the same and exits 1 when anything would change (drift detection in CI).',
    "The view is written as the Glue VIRTUAL_VIEW the original solution's Terraform wrote (presto_view=true), which Athena and the QuickSight dataset read.",
  ].join('\n\n')

  static override examples = [
    `<%= config.bin %> <%= command.id %> --bucket ${B} --labels app,team --crawler-role-arn ${ROLE}`,
    `<%= config.bin %> <%= command.id %> --bucket ${B} --labels app,team --check`,
  ]

  static override flags = {
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
    database: nameFlag('database', 'GLUE_DATABASE', 'kubecost_db', 'Glue database'),
    table: nameFlag('table', 'GLUE_TABLE', 'kubecost_table', 'Glue table over the exported files'),
    crawler: nameFlag('crawler', 'GLUE_CRAWLER', 'kubecost_crawler', "Glue crawler that adds each day's partitions"),
    'crawler-role-arn': Flags.string({
      ...input({flag: 'crawler-role-arn', env: 'CRAWLER_ROLE_ARN'}, parseRoleArn),
      description:
        'role the crawler runs as (required to create the crawler; an existing crawler keeps its role when omitted)',
    }),
    'crawler-schedule': Flags.string({
      ...input({flag: 'crawler-schedule', env: 'CRAWLER_SCHEDULE'}, (v, n) => {
        if (!/^cron\(\S+( \S+){5}\)$/.test(v.trim()))
          throw new InvalidInputError(n.flag, n.env, v, 'not a Glue cron expression such as cron(0 1 * * ? *)')
        return v.trim()
      }),
      description: "crawler schedule (UTC): an hour after the exporters' 00:00 run",
      default: DEFAULT_CRAWLER_SCHEDULE,
    }),
    view: nameFlag('view', 'ATHENA_VIEW', 'kubecost_view', 'Athena view the QuickSight dataset reads'),
    'view-months': Flags.custom<number>({...input({flag: 'view-months', env: 'VIEW_MONTHS'}, parsePositiveInteger)})({
      description: 'the view returns rows whose window.start is within this many months',
      default: 6,
    }),
    'allow-column-removal': Flags.boolean({
      env: 'ALLOW_COLUMN_REMOVAL',
      description: 'let the table drop label/annotation columns no longer listed (Athena then stops seeing that data)',
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
    region: Flags.string({
      ...input({flag: 'region', env: 'GLUE_REGION'}, parseRegion),
      description: 'region of the Glue catalog [default: AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1]',
    }),
    'athena-workgroup': Flags.string({
      ...input({flag: 'athena-workgroup', env: 'ATHENA_WORKGROUP'}, workgroupName),
      description: "the workgroup the dashboard's queries run in: checked for a query result location",
      default: 'primary',
    }),
    'create-workgroup': Flags.string({
      ...input({flag: 'create-workgroup', env: 'CREATE_ATHENA_WORKGROUP'}, workgroupName),
      description: 'create (or update) this workgroup, with --results-location, enforced configuration and encryption',
      dependsOn: ['results-location'],
    }),
    'results-location': Flags.string({
      ...input({flag: 'results-location', env: 'ATHENA_RESULTS_LOCATION'}, (v, n) => {
        if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(v.trim()))
          throw new InvalidInputError(n.flag, n.env, v, 'not an S3 location such as s3://my-bucket/athena-results/')
        return v.trim()
      }),
      description: 'query result location of --create-workgroup',
      dependsOn: ['create-workgroup'],
    }),
    'results-kms-key': Flags.string({
      ...input({flag: 'results-kms-key', env: 'ATHENA_RESULTS_KMS_KEY'}, (v, n) => {
        if (
          !/^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+|alias\/[\w/-]+|[0-9a-f-]{36})$/.test(v.trim())
        )
          throw new InvalidInputError(n.flag, n.env, v, 'not a KMS key ARN, id or alias')
        return v.trim()
      }),
      description: "encrypt --create-workgroup's results with this KMS key (SSE-KMS) [default: SSE-S3]",
      dependsOn: ['create-workgroup'],
    }),
    's3-endpoint': destinationFlags['s3-endpoint'],
    ...logFlags,
  }

  async run(): Promise<DeployResult> {
    const {flags} = await this.parse(DeployGlue)
    const dryRun = flags['dry-run'] || flags.check
    const config: DeployConfig = {
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
    const logger = this.logger(flags['log-format'])
    const session = await this.awsSession({
      flag: flags.region,
      env: process.env,
      fallback: {region: 'us-east-1', described: 'us-east-1'},
      logger,
    })
    const {GlueCatalog, listLocationKeys} = await import('../lib/aws/glue.js')
    const {AthenaWorkgroups} = await import('../lib/aws/athena.js')
    const steps = await planDeployment(config, new GlueCatalog(await session.client('glue'), session), {
      allowColumnRemoval: flags['allow-column-removal'],
    })
    const create = flags['create-workgroup']
    const workgroup = await planWorkgroup(new AthenaWorkgroups(await session.client('athena'), session), {
      use: flags['athena-workgroup'],
      create:
        create && flags['results-location']
          ? {name: create, outputLocation: flags['results-location'], kmsKey: flags['results-kms-key']}
          : undefined,
    })
    if (workgroup.step) steps.push(workgroup.step)
    const warnings = workgroup.warning ? [workgroup.warning] : []
    const resources = dryRun ? steps.map(s => outcome(s)) : await applyPlan(steps)

    const prefix = flags.prefix ? `${flags.prefix}/` : ''
    const listing = await listLocationKeys(
      await session.s3({endpoint: flags['s3-endpoint']}),
      session,
      flags.bucket,
      prefix,
      LISTING_LIMIT,
    )
    const foreign = foreignKeys(listing.keys, flags.prefix)
    if (foreign.length > 0) {
      warnings.push(
        `s3://${flags.bucket}/${prefix} holds ${foreign.length}${listing.truncated ? '+' : ''} objects that are not exporter files; the crawler reads every object there and fails or skips partitions because of them. Move them elsewhere. Examples: ${foreign.slice(0, 5).join(', ')}`,
      )
    }

    for (const warning of warnings) logger.warn(warning)
    const result: DeployResult = {
      dryRun,
      resources,
      foreignObjects: {count: foreign.length, examples: foreign.slice(0, 5), truncated: listing.truncated},
      warnings,
    }

    if (!this.jsonEnabled()) this.log(resources.map(r => outcomeLine(r, dryRun)).join('\n'))
    const changing = resources.filter(r => r.action !== 'unchanged')
    if (flags.check && changing.length > 0) {
      return this.failedWith(
        result,
        new AwsError(
          'GLUE_DRIFT',
          `${changing.length} of ${resources.length} Glue resources differ from the definition: ${changing.map(r => `${r.kind} ${r.name} (${r.action === 'created' ? 'missing' : r.changes.join('; ')})`).join(', ')}`,
          {
            suggestions: ['Run deploy-glue without --check to apply the changes.'],
          },
        ),
      )
    }

    return result
  }
}
