/**
 * deploy-glue's plan: read every resource, decide created / updated / unchanged with what differs,
 * refuse what must not happen (dropping columns, a crawler without a role) before anything is
 * written, then apply the plan in dependency order (database, table, view, crawler).
 */
import {AwsError, ConfigError} from '../errors.js'
import {type ExistingCrawler, type ExistingTable, checkColumnRemoval, compareCrawler, compareTable} from './compare.js'
import {
  type CrawlerDefinition,
  type DeployConfig,
  type TableDefinition,
  crawlerDefinition,
  tableDefinition,
  viewDefinition,
} from './definitions.js'
import {flag, setting} from '../settings.js'

/** The catalog operations the plan needs (src/lib/aws/glue.ts's GlueCatalog). */
export interface Catalog {
  databaseExists(name: string): Promise<boolean>
  createDatabase(name: string): Promise<void>
  getTable(database: string, name: string): Promise<ExistingTable | undefined>
  createTable(database: string, table: TableDefinition): Promise<void>
  updateTable(database: string, table: TableDefinition): Promise<void>
  getCrawler(name: string): Promise<ExistingCrawler | undefined>
  createCrawler(crawler: CrawlerDefinition): Promise<void>
  updateCrawler(crawler: CrawlerDefinition): Promise<void>
}

export type ResourceKind = 'database' | 'table' | 'view' | 'crawler' | 'workgroup'
export type ResourceAction = 'created' | 'updated' | 'unchanged'

export interface ResourceOutcome {
  kind: ResourceKind
  name: string
  action: ResourceAction
  /** For updates, what differs ("columns added: properties.labels.team"). */
  changes: string[]
}

export interface PlannedStep extends ResourceOutcome {
  apply(): Promise<void>
}

export interface PlanOptions {
  allowColumnRemoval: boolean
}

const noop = async () => {}

function step(
  kind: ResourceKind,
  name: string,
  action: ResourceAction,
  changes: string[],
  apply: () => Promise<void>,
): PlannedStep {
  return {kind, name, action, changes, apply: action === 'unchanged' ? noop : apply}
}

export async function planDeployment(
  config: DeployConfig,
  catalog: Catalog,
  options: PlanOptions,
): Promise<PlannedStep[]> {
  const {database} = config
  const steps: PlannedStep[] = []
  const databaseExists = await catalog.databaseExists(database)
  steps.push(
    step('database', database, databaseExists ? 'unchanged' : 'created', [], () => catalog.createDatabase(database)),
  )

  for (const [kind, wanted] of [
    ['table', tableDefinition(config)],
    ['view', viewDefinition(config)],
  ] as const) {
    const name = `${database}.${wanted.Name}`
    const existing = databaseExists ? await catalog.getTable(database, wanted.Name) : undefined
    if (!existing) {
      steps.push(step(kind, name, 'created', [], () => catalog.createTable(database, wanted)))
      continue
    }

    const {changes, removed, update} = compareTable(existing, wanted)
    // The view follows the table: dropping a column from the view alone hides nothing the table still has.
    if (kind === 'table') checkColumnRemoval(name, removed, options.allowColumnRemoval)
    steps.push(
      step(kind, name, changes.length > 0 ? 'updated' : 'unchanged', changes, () =>
        catalog.updateTable(database, update),
      ),
    )
  }

  const existing = await catalog.getCrawler(config.crawler)
  const role = config.crawlerRoleArn ?? existing?.Role
  if (role === undefined) {
    throw new ConfigError(
      `Crawler ${config.crawler} does not exist, and creating it needs a role: ${setting('crawlerRoleArn')} is not set`,
      {
        suggestions: [
          `Pass ${flag('crawlerRoleArn')} arn:aws:iam::<account>:role/kubecost_glue_crawler_role (the role the crawler reads the bucket and writes partitions with).`,
        ],
      },
    )
  }

  const crawler = crawlerDefinition(config, role)
  if (existing) {
    const changes = compareCrawler(existing, crawler)
    steps.push(
      step('crawler', config.crawler, changes.length > 0 ? 'updated' : 'unchanged', changes, () =>
        catalog.updateCrawler(crawler),
      ),
    )
  } else {
    steps.push(step('crawler', config.crawler, 'created', [], () => catalog.createCrawler(crawler)))
  }

  return steps
}

/** Applies the planned steps in order; an unchanged step does nothing. */
export async function applyPlan(steps: readonly PlannedStep[]): Promise<ResourceOutcome[]> {
  const outcomes: ResourceOutcome[] = []
  for (const s of steps) {
    await s.apply()
    outcomes.push(outcome(s))
  }

  return outcomes
}

export function outcome(s: PlannedStep): ResourceOutcome {
  return {kind: s.kind, name: s.name, action: s.action, changes: s.changes}
}

/** One line per resource: "table kubecost_db.kubecost_table: updated (columns added: ...)". */
export function outcomeLine(o: ResourceOutcome, dryRun: boolean): string {
  const verb = dryRun
    ? {created: 'would be created', updated: 'would be updated', unchanged: 'unchanged'}[o.action]
    : o.action
  return `${o.kind} ${o.name}: ${verb}${o.changes.length > 0 ? ` (${o.changes.join('; ')})` : ''}`
}

/** `--check`'s failure: what differs from the definition, or undefined when nothing does. */
export function driftError(resources: readonly ResourceOutcome[]): AwsError | undefined {
  const changing = resources.filter(r => r.action !== 'unchanged')
  if (changing.length === 0) return undefined
  const what = changing.map(r => `${r.kind} ${r.name} (${r.action === 'created' ? 'missing' : r.changes.join('; ')})`)
  return new AwsError(
    'GLUE_DRIFT',
    `${changing.length} of ${resources.length} Glue resources differ from the definition: ${what.join(', ')}`,
    {suggestions: [`Run deploy-glue without ${flag('check')} to apply the changes.`]},
  )
}
