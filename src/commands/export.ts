import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {openContext, openSplitContext} from '../context.js'
import {
  awsFlags,
  checkForce,
  destinationFlags,
  limitFlags,
  logFlags,
  rangeFlags,
  rangeOptions,
  resolveClusterMap,
  runDeadline,
  sourceFlags,
  splitFlags,
} from '../flags.js'
import type {RegionReport} from '../lib/aws/region.js'
import {type ExportResult, partialFailure, runExport} from '../lib/export.js'
import {type SplitExportResult, runSplitExport} from '../lib/split.js'
import {renderOutcomes, renderPlan, renderSplitOutcomes, renderSplitPlan} from '../render.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'

export default class Export extends BaseCommand {
  static override summary =
    'Export the days Kubecost has and the destination lacks, one Parquet file per cluster per day'
  static override description =
    'Runs daily as a Kubernetes CronJob in each EKS cluster. Asks Kubecost which of the candidate days (the --backfill-days days ending at today-3, UTC) it has, lists the destination, and collects each missing day, oldest first, into one Snappy Parquet file uploaded under [<prefix>/]account_id=<account>/region=<region>/year=<YYYY>/month=<MM>/<YYYY-MM-DD>_<cluster>.snappy.parquet. Every flag falls back to the environment variable shown, so the CronJob is configured by env vars alone. A day that fails is reported and the others still run; the exit code is then 1. With --split-by-cluster, one exporter next to a federated Kubecost primary writes one file per mapped cluster per day, each under its own cluster ARN (account, region, name).'

  static override examples = [
    {
      description: 'Export to S3 (in the cluster, usually configured by environment variables instead)',
      command: `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --bucket kubecost-data-111122223333`,
    },
    {
      description: 'Export to a local directory from a port-forwarded Kubecost, with two label columns',
      command: `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --output-dir ./out --kubecost-url http://localhost:9090 --labels "app, app.kubernetes.io/name"`,
    },
    {
      description: 'Re-collect a week after Kubecost reconciled its costs with the bill',
      command: `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --bucket kubecost-data-111122223333 --force --from 2026-11-16 --to 2026-11-22`,
    },
    {
      description:
        'From a federated Kubecost primary: one file per cluster per day, each at its own cluster ARN (the primary here knows the clusters as cluster-one and cluster-two)',
      command: `<%= config.bin %> <%= command.id %> --split-by-cluster --cluster-map cluster-one=${ARN} --cluster-map cluster-two=arn:aws:eks:eu-west-1:444455556666:cluster/staging --bucket kubecost-data-111122223333`,
    },
    {
      description: 'See what would be collected, without writing anything',
      command: `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --bucket kubecost-data-111122223333 --dry-run`,
    },
  ]

  static override flags = {
    ...sourceFlags,
    ...splitFlags,
    ...destinationFlags,
    ...awsFlags,
    ...rangeFlags,
    ...limitFlags,
    ...logFlags,
    'dry-run': Flags.boolean({
      description: 'do everything except writing or uploading files: print the plan',
      default: false,
    }),
  }

  async run(): Promise<(ExportResult | SplitExportResult) & {awsRegion?: RegionReport}> {
    const {flags} = await this.parse(Export)
    checkForce(flags)
    const logger = this.logger(flags['log-format'])
    const signal = this.abortSignal(runDeadline(flags['run-deadline']))
    const clusters = resolveClusterMap(flags, process.env)
    const open = {signal, argv: this.argv, use: <T extends AsyncDisposable>(resource: T) => this.use(resource)}
    const common = {
      ...rangeOptions(flags, this.argv, process.env),
      aggregation: flags.aggregation,
      labels: flags.labels ?? [],
      annotations: flags.annotations ?? [],
      dryRun: flags['dry-run'],
      maxRowsPerDay: flags['max-rows-per-day'],
    }
    let result: (ExportResult | SplitExportResult) & {awsRegion?: RegionReport}
    let lines: string[]
    if (clusters) {
      const {kubecost, destination, awsRegion} = await openSplitContext(flags, clusters, logger, open)
      const split = await runSplitExport(
        {...common, clusters, prefix: flags.prefix},
        {kubecost, destination, logger, signal},
      )
      if (split.dryRun && !this.jsonEnabled()) this.log(renderSplitPlan(split))
      ;[result, lines] = [{...split, ...(awsRegion ? {awsRegion} : {})}, renderSplitOutcomes(split)]
    } else {
      const {kubecost, awsRegion, ...context} = await openContext(flags, logger, open)
      const single = await runExport(
        {...context, ...common, parseThreads: flags['parse-threads']},
        {kubecost, destination: context.destination, logger, signal},
      )
      if (single.dryRun && !this.jsonEnabled()) this.log(renderPlan(single))
      ;[result, lines] = [{...single, ...(awsRegion ? {awsRegion} : {})}, renderOutcomes(single)]
    }

    const summary = lines.pop()
    for (const line of lines) logger.info(line)
    // The counts as fields too, so a log pipeline can alert on failed > 0 without parsing the text.
    logger.info(summary ?? '', {
      written: result.written,
      failed: result.failed,
      skipped: result.skipped,
      available: result.available,
      dryRun: result.dryRun,
    })
    return result.failed === 0
      ? result
      : this.failedWith(result, partialFailure(result, clusters ? 'cluster-days' : 'days'))
  }
}
