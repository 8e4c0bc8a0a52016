import {BaseCommand} from '../base-command.js'
import {openContext} from '../context.js'
import {awsFlags, checkForce, destinationFlags, flagSource, logFlags, rangeFlags, sourceFlags} from '../flags.js'
import {type BackfillPlan, planBackfill} from '../lib/backfill.js'
import {renderPlan} from '../render.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'

export default class BackfillPlanCommand extends BaseCommand {
  static override summary = 'Show which days export would collect, and why (read-only)'
  static override description =
    'The same gap analysis as export, without writing anything: one Allocation API call to learn which candidate days Kubecost has, and a listing of the destination. Each candidate day is present (its file exists), collect (Kubecost has it, the destination lacks it), unavailable (Kubecost has no data: before it was installed, a powered-off cluster, or beyond retention), or, with --force, recollect (present, and collected again by export --force).'

  static override examples = [
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --bucket kubecost-data-111122223333`,
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --output-dir ./out --from 2026-11-01 --to 2026-11-15 --json`,
  ]

  static override flags = {...sourceFlags, ...destinationFlags, ...awsFlags, ...rangeFlags, ...logFlags}

  async run(): Promise<BackfillPlan> {
    const {flags} = await this.parse(BackfillPlanCommand)
    checkForce(flags)
    const logger = this.logger(flags['log-format'])
    const {kubecost, ...context} = await openContext(flags, logger, {
      argv: this.argv,
      use: resource => this.use(resource),
    })
    const plan = await planBackfill(
      {
        ...context,
        backfillDays: flags['backfill-days'],
        backfillDaysGiven: flagSource(this.argv, 'backfill-days', 'BACKFILL_PERIOD_DAYS', process.env) !== undefined,
        from: flags.from,
        to: flags.to,
        force: flags.force,
        now: flags.now ?? new Date(),
      },
      {kubecost, destination: context.destination, logger},
    )
    if (!this.jsonEnabled()) this.log(renderPlan(plan))
    return plan
  }
}
