import {BaseCommand} from '../base-command.js'
import {awsTimeouts, deployConfig, deployGlueFlags, pollEvery} from '../flags.js'
import type {RegionReport} from '../lib/aws/region.js'
import {CidError} from '../lib/errors.js'
import {deployLines, driftError} from '../lib/glue/deploy.js'
import {type DeployResult, deploy} from '../lib/glue/deployment.js'
import {verifiedLine, verifyView} from '../lib/glue/verify.js'

const B = 'kubecost-data-111122223333'
const ROLE = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'
/** How many keys of the table location are looked at for foreign objects. */
const LISTING_LIMIT = 100_000

export type {DeployResult} from '../lib/glue/deployment.js'

export default class DeployGlue extends BaseCommand {
  static override summary = 'Create or update the Glue database, table, Athena view and crawler the dashboard reads'
  static override description = [
    "The table is derived from the exporter's own column list (the 58 contract columns, then one column per --labels and --annotations key), so it can never drift from the files. Each resource is read, then created, updated where it differs (the line says what changed), or left alone; a second run reports every resource unchanged.",
    'Removing a label or annotation column is refused unless --allow-column-removal is given: Athena would stop seeing that data. --dry-run prints the plan and changes nothing; --check does the same and exits 1 when anything would change (drift detection in CI).',
    "The view is written as the Glue VIRTUAL_VIEW the original solution's Terraform wrote (presto_view=true), which Athena and the QuickSight dataset read. --verify then runs a LIMIT 0 query over it in the workgroup, proving Athena can read it (exit 1 with Athena's reason when it cannot).",
    "What it creates is marked (parameter or tag managed-by=kubecost-cid). An existing object of the same name that it did not create (unmarked and not shaped like what it or the original solution's Terraform writes, e.g. a table at another location, a customised view, a crawler of something else) is reported and left untouched, and the run changes nothing and exits 1, unless --adopt is given: the object is then updated in place and marked. Updated tables keep Glue's table versions.",
  ].join('\n\n')

  static override examples = [
    `<%= config.bin %> <%= command.id %> --bucket ${B} --labels app,team --crawler-role-arn ${ROLE}`,
    `<%= config.bin %> <%= command.id %> --bucket ${B} --labels app,team --check`,
    `<%= config.bin %> <%= command.id %> --bucket ${B} --labels app,team --verify`,
  ]

  static override flags = deployGlueFlags

  async run(): Promise<DeployResult & {awsRegion: RegionReport}> {
    const {flags} = await this.parse(DeployGlue)
    const dryRun = flags['dry-run'] || flags.check
    const config = deployConfig(flags)
    const logger = this.logger(flags['log-format'])
    const session = await this.awsSession({
      flag: flags.region,
      regionFlag: true,
      logger,
      aws: awsTimeouts(flags),
    })
    const {GlueCatalog, listLocationKeys} = await import('../lib/aws/glue.js')
    const {AthenaWorkgroups} = await import('../lib/aws/athena.js')
    const athena = new AthenaWorkgroups(await session.client('athena'), session, session)
    const s3 = await session.s3({endpoint: flags['s3-endpoint']})
    const create = flags['create-workgroup']
    const deployed = await deploy(
      {
        catalog: new GlueCatalog(await session.client('glue'), session, session),
        workgroups: athena,
        listKeys: async prefix =>
          listLocationKeys(s3, session, flags.bucket, prefix, LISTING_LIMIT, flags['s3-endpoint']),
      },
      config,
      {
        dryRun,
        allowColumnRemoval: flags['allow-column-removal'],
        adopt: flags.adopt,
        workgroup: {
          use: flags['athena-workgroup'],
          create:
            create && flags['results-location']
              ? {name: create, outputLocation: flags['results-location'], kmsKey: flags['results-kms-key']}
              : undefined,
        },
      },
    )
    const {failure} = deployed
    const result: DeployResult & {awsRegion: RegionReport} = {...deployed.result, awsRegion: session.regionReport}
    for (const warning of result.warnings) logger.warn(warning)
    if (!this.jsonEnabled()) this.log(deployLines(result).join('\n'))
    if (failure) return this.failedWith(result, failure)
    const drift = flags.check ? driftError(result.resources) : undefined
    if (drift) return this.failedWith(result, drift)
    if (!flags.verify) return result
    if (dryRun) {
      logger.warn('--verify was not run: --dry-run and --check write nothing, so there may be no view to read yet')
      return result
    }

    try {
      result.verified = await this.withProgress(
        `Reading ${config.database}.${config.view} with Athena`,
        logger,
        flags['log-format'],
        report =>
          verifyView(athena, {
            database: config.database,
            view: config.view,
            workgroup: create ?? flags['athena-workgroup'],
            workgroupSetting: create ? 'createWorkgroup' : 'athenaWorkgroup',
            timeoutMs: flags['verify-timeout'],
            poll: pollEvery(flags['poll-ms'], {initialMs: 1000, maxMs: 5000}),
            signal: this.abortSignal(),
            onProgress: report,
          }),
      )
    } catch (error) {
      if (error instanceof CidError) return this.failedWith(result, error)
      throw error
    }

    if (!this.jsonEnabled()) this.log(verifiedLine(result.verified, config))
    return result
  }
}
