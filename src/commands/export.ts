import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {destinationFlags, logFlags, sourceFlags, splitKeys} from '../flags.js'
import {openDestination} from '../lib/destination/open.js'
import {PartialFailureError} from '../lib/errors.js'
import {type ExportResult, runExport} from '../lib/export.js'
import {KubecostClient} from '../lib/kubecost/client.js'
import {Layout} from '../lib/layout.js'
import {requireCluster} from '../lib/cluster.js'
import {renderOutcomes, renderPlan} from '../render.js'

export default class Export extends BaseCommand {
  static override summary = 'Export the days Kubecost has and the destination lacks, one Parquet file per cluster per day'
  static override description = `Runs daily as a Kubernetes CronJob in each EKS cluster. Asks Kubecost which of the
candidate days (the --backfill-days days ending at today-3, UTC) it has, lists the destination, and
collects each missing day, oldest first, into one Snappy Parquet file uploaded under
[<prefix>/]account_id=<account>/region=<region>/year=<YYYY>/month=<MM>/<YYYY-MM-DD>_<cluster>.snappy.parquet.
Every flag falls back to the environment variable shown, so the CronJob is configured by env vars alone.`

  static override examples = [
    {
      description: 'Export to S3 (in the cluster, usually configured by environment variables instead)',
      command: '<%= config.bin %> <%= command.id %> --cluster-arn arn:aws:eks:us-east-1:111122223333:cluster/prod --bucket kubecost-data-111122223333',
    },
    {
      description: 'Export to a local directory from a port-forwarded Kubecost, with two label columns',
      command:
        '<%= config.bin %> <%= command.id %> --cluster-arn arn:aws:eks:eu-west-1:111122223333:cluster/dev --output-dir ./out --kubecost-url http://localhost:9090 --labels "app, app.kubernetes.io/name"',
    },
    {
      description: 'See what would be collected, without writing anything',
      command: '<%= config.bin %> <%= command.id %> --cluster-arn arn:aws:eks:us-east-1:111122223333:cluster/prod --bucket kubecost-data-111122223333 --dry-run',
    },
  ]

  static override flags = {
    ...sourceFlags,
    ...destinationFlags,
    ...logFlags,
    'dry-run': Flags.boolean({description: 'do everything except writing or uploading files', default: false}),
  }

  async run(): Promise<ExportResult> {
    const {flags} = await this.parse(Export)
    const cluster = requireCluster(flags['cluster-arn'])
    const destination = openDestination({
      bucket: flags.bucket,
      outputDir: flags['output-dir'],
      s3: {endpoint: flags['s3-endpoint']},
    })
    const kubecost = new KubecostClient({
      baseUrl: flags['kubecost-url'],
      connectTimeoutMs: flags['connect-timeout'],
      allocationReadTimeoutMs: flags['allocation-read-timeout'],
      assetsReadTimeoutMs: flags['assets-read-timeout'],
    })
    const logger = this.logger(flags['log-format'])
    let result: ExportResult
    try {
      result = await runExport(
        {
          cluster,
          layout: new Layout(cluster, flags.prefix),
          aggregation: flags.aggregation,
          labels: splitKeys(flags.labels),
          annotations: splitKeys(flags.annotations),
          backfillDays: flags['backfill-days'],
          now: flags.now ?? new Date(),
          dryRun: flags['dry-run'],
        },
        {kubecost, destination, logger},
      )
    } finally {
      await kubecost.close()
    }

    if (result.dryRun && !this.jsonEnabled()) this.log(renderPlan(result.plan, result.summary))
    for (const line of renderOutcomes(result)) logger.info(line)
    if (result.failed > 0) {
      const error = new PartialFailureError(
        `${result.failed} of ${result.failed + result.written} days failed: ${result.outcomes
          .filter((o) => o.status === 'failed')
          .map((o) => o.date)
          .join(', ')}`,
        {suggestions: ['The failed days are retried by the next run; see the errors above for each cause.']},
      )
      if (this.jsonEnabled()) {
        process.exitCode = error.exitCode
        return result
      }

      throw error
    }

    return result
  }
}
