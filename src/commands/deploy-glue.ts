import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {catalogFlags, destinationFlags, glueRegionFlag, input, keyList, logFlags, workgroupFlags} from '../flags.js'
import type {DeployConfig} from '../lib/glue/definitions.js'
import {type ResourceOutcome, applyPlan, driftError, outcome, outcomeLine, planDeployment} from '../lib/glue/deploy.js'
import {foreignKeys, foreignWarning} from '../lib/glue/foreign.js'
import {planWorkgroup} from '../lib/glue/workgroup.js'
import {parseBucketName} from '../lib/validate.js'

const B = 'kubecost-data-111122223333'
const ROLE = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'
/** How many keys of the table location are looked at for foreign objects. */
const LISTING_LIMIT = 100_000

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
    ...catalogFlags,
    region: glueRegionFlag('Glue catalog'),
    ...workgroupFlags,
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
    const resources = dryRun ? steps.map(s => outcome(s)) : await applyPlan(steps)

    const prefix = flags.prefix ? `${flags.prefix}/` : ''
    const s3 = await session.s3({endpoint: flags['s3-endpoint']})
    const listing = await listLocationKeys(s3, session, flags.bucket, prefix, LISTING_LIMIT)
    const foreign = foreignKeys(listing.keys, flags.prefix)
    const warnings = [
      workgroup.warning,
      foreignWarning(`s3://${flags.bucket}/${prefix}`, foreign, listing.truncated),
    ].filter(w => w !== undefined)
    for (const warning of warnings) logger.warn(warning)
    const result: DeployResult = {
      dryRun,
      resources,
      foreignObjects: {count: foreign.length, examples: foreign.slice(0, 5), truncated: listing.truncated},
      warnings,
    }

    if (!this.jsonEnabled()) this.log(resources.map(r => outcomeLine(r, dryRun)).join('\n'))
    const drift = flags.check ? driftError(resources) : undefined
    return drift ? this.failedWith(result, drift) : result
  }
}
