import {BaseCommand} from '../base-command.js'
import {openContext, openSplitContext} from '../context.js'
import {
  awsFlags,
  checkForce,
  destinationFlags,
  logFlags,
  rangeFlags,
  rangeOptions,
  resolveClusterMap,
  sourceFlags,
  splitFlags,
} from '../flags.js'
import type {RegionReport} from '../lib/aws/region.js'
import {type BackfillPlan, planBackfill} from '../lib/backfill.js'
import {type SplitPlan, planSplit} from '../lib/split.js'
import {renderPlan, renderSplitPlan} from '../render.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'

export default class BackfillPlanCommand extends BaseCommand {
  static override summary = 'Show which days export would collect, and why (read-only)'
  static override description =
    'The same gap analysis as export, without writing anything: one Allocation API call to learn which candidate days Kubecost has, and a listing of the destination. Each candidate day is present (its file exists), collect (Kubecost has it, the destination lacks it), unavailable (Kubecost has no data: before it was installed, a powered-off cluster, or beyond retention), or, with --force, recollect (present, and collected again by export --force). With --split-by-cluster, every mapped cluster of a federated Kubecost primary has its own row per day, and the clusters Kubecost reports that the map does not name are listed.'

  static override examples = [
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --bucket kubecost-data-111122223333`,
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --output-dir ./out --from 2026-11-01 --to 2026-11-15 --json`,
    `<%= config.bin %> <%= command.id %> --split-by-cluster --cluster-map cluster-one=${ARN} --cluster-map cluster-two=arn:aws:eks:eu-west-1:444455556666:cluster/staging --bucket kubecost-data-111122223333`,
  ]

  static override flags = {...sourceFlags, ...splitFlags, ...destinationFlags, ...awsFlags, ...rangeFlags, ...logFlags}

  async run(): Promise<(BackfillPlan | SplitPlan) & {awsRegion?: RegionReport}> {
    const {flags} = await this.parse(BackfillPlanCommand)
    checkForce(flags)
    const logger = this.logger(flags['log-format'])
    const clusters = resolveClusterMap(flags, process.env)
    const signal = this.abortSignal()
    const open = {signal, argv: this.argv, use: <T extends AsyncDisposable>(resource: T) => this.use(resource)}
    const range = rangeOptions(flags, this.argv, process.env)
    if (clusters) {
      const {kubecost, destination, awsRegion} = await openSplitContext(flags, clusters, logger, open)
      const plan = await planSplit({...range, clusters, prefix: flags.prefix}, {kubecost, destination, logger})
      if (!this.jsonEnabled()) this.log(renderSplitPlan(plan))
      return {...plan, ...(awsRegion ? {awsRegion} : {})}
    }

    const {kubecost, awsRegion, ...context} = await openContext(flags, logger, open)
    const plan = await planBackfill({...context, ...range}, {kubecost, destination: context.destination, logger})
    if (!this.jsonEnabled()) this.log(renderPlan(plan))
    return {...plan, ...(awsRegion ? {awsRegion} : {})}
  }
}
