/**
 * deploy-glue's plan: read every resource, decide whose it is (ownership.ts) and created / updated /
 * adopted / unchanged with what differs, refuse what must not happen (dropping columns, a crawler
 * without a role) before anything is written, then apply the plan in dependency order (database,
 * table, view, crawler), stopping at the first failure with what was done until then.
 */
import {AwsError, CidError, ConfigError} from '../errors.js'
import {type ExistingCrawler, type ExistingTable, checkColumnRemoval, compareCrawler, compareTable} from './compare.js'
import {
  type CrawlerDefinition,
  type DeployConfig,
  MARKER,
  type TableDefinition,
  crawlerDefinition,
  tableDefinition,
  viewDefinition,
} from './definitions.js'
import {
  MARKING,
  type Ownership,
  crawlerOwnership,
  databaseOwnership,
  tableOwnership,
  viewOwnership,
} from './ownership.js'
import {type NamedResource, catalogObject, named} from '../iam/name-hints.js'
import {contractColumns} from '../schema.js'
import {flag, setting} from '../settings.js'

/** The catalog operations the plan needs (src/lib/aws/glue.ts's GlueCatalog). */
export interface Catalog {
  /** The database's parameters, or undefined when there is no database of that name. */
  getDatabase(name: string): Promise<{Parameters?: Record<string, string>} | undefined>
  createDatabase(name: string, parameters: Readonly<Record<string, string>>): Promise<void>
  getTable(database: string, name: string): Promise<ExistingTable | undefined>
  createTable(database: string, table: TableDefinition): Promise<void>
  updateTable(database: string, table: TableDefinition): Promise<void>
  getCrawler(name: string): Promise<ExistingCrawler | undefined>
  /** The tags of a crawler that exists. */
  crawlerTags(name: string): Promise<Record<string, string>>
  createCrawler(crawler: CrawlerDefinition): Promise<void>
  updateCrawler(crawler: CrawlerDefinition): Promise<void>
  tagCrawler(name: string, tags: Readonly<Record<string, string>>): Promise<void>
}

export type ResourceKind = 'database' | 'table' | 'view' | 'crawler' | 'workgroup'
/** `foreign`: someone else's, left untouched; `adopted`: someone else's, taken over as --adopt asked. */
export type ResourceAction = 'created' | 'updated' | 'adopted' | 'unchanged' | 'foreign'

export interface ResourceOutcome {
  kind: ResourceKind
  name: string
  action: ResourceAction
  /** For updates, what differs ("columns added: properties.labels.team"). */
  changes: string[]
  /** For an object deploy-glue did not make (foreign or adopted), why it is not its own. */
  whyForeign?: string[]
}

export interface PlannedStep extends ResourceOutcome {
  apply(): Promise<void>
}

export interface PlanOptions {
  allowColumnRemoval: boolean
  /** Take over objects deploy-glue did not make: update them in place and mark them. */
  adopt: boolean
}

const noop = async () => {}

function step(
  kind: ResourceKind,
  name: string,
  action: ResourceAction,
  changes: string[],
  apply: () => Promise<void>,
): PlannedStep {
  return {kind, name, action, changes, apply: action === 'unchanged' || action === 'foreign' ? noop : apply}
}

/**
 * The step of an object that exists: unchanged or updated when it is ours (marking it when it is
 * not marked yet), left untouched when it is someone else's, adopted when that was asked for.
 */
export function existingStep(
  kind: ResourceKind,
  name: string,
  ownership: Ownership,
  changes: readonly string[],
  adopt: boolean,
  apply: () => Promise<void>,
): PlannedStep {
  const all = ownership.marked ? [...changes] : [...changes, MARKING]
  if (ownership.ours) return step(kind, name, all.length > 0 ? 'updated' : 'unchanged', all, apply)
  if (!adopt) return {...step(kind, name, 'foreign', [], apply), whyForeign: ownership.reasons}
  return {...step(kind, name, 'adopted', all, apply), whyForeign: ownership.reasons}
}

/** The exporter's own columns, lower-cased as Glue stores them: what an unmarked table must hold to be ours. */
const CONTRACT_NAMES = contractColumns({labels: [], annotations: []}).map(c => c.name.toLowerCase())

/**
 * The catalog's calls, an access denied on a database, table, view or crawler that the printed
 * least-privilege policy does not name hinted as such (a mistyped name is denied, not missing).
 */
function hintedCatalog(catalog: Catalog, config: DeployConfig): Catalog {
  const database: NamedResource = {kind: 'database', name: config.database, setting: 'database'}
  const crawler: NamedResource = {kind: 'crawler', name: config.crawler, setting: 'crawler'}
  const object = (db: string, name: string) =>
    name === config.view
      ? catalogObject(db, name, 'view', {database: 'database', name: 'view'})
      : catalogObject(db, name, 'table', {database: 'database', name: 'table'})
  return {
    getDatabase: async name => named(database, catalog.getDatabase(name)),
    createDatabase: async (name, parameters) => named(database, catalog.createDatabase(name, parameters)),
    getTable: async (db, name) => named(object(db, name), catalog.getTable(db, name)),
    createTable: async (db, table) => named(object(db, table.Name), catalog.createTable(db, table)),
    updateTable: async (db, table) => named(object(db, table.Name), catalog.updateTable(db, table)),
    getCrawler: async name => named(crawler, catalog.getCrawler(name)),
    crawlerTags: async name => named(crawler, catalog.crawlerTags(name)),
    createCrawler: async c => named(crawler, catalog.createCrawler(c)),
    updateCrawler: async c => named(crawler, catalog.updateCrawler(c)),
    tagCrawler: async (name, tags) => named(crawler, catalog.tagCrawler(name, tags)),
  }
}

export async function planDeployment(
  config: DeployConfig,
  rawCatalog: Catalog,
  options: PlanOptions,
): Promise<PlannedStep[]> {
  const catalog = hintedCatalog(rawCatalog, config)
  const {database} = config
  const {adopt} = options
  const steps: PlannedStep[] = []
  const db = await catalog.getDatabase(database)
  const table = tableDefinition(config)
  const view = viewDefinition(config)
  const existingTable = db ? await catalog.getTable(database, table.Name) : undefined
  const existingView = db ? await catalog.getTable(database, view.Name) : undefined
  const tableOwner = existingTable && tableOwnership(existingTable, table, CONTRACT_NAMES)
  const viewOwner = existingView && viewOwnership(existingView, database, config.table)

  if (db) {
    const owner = databaseOwnership(db.Parameters, Boolean(tableOwner?.ours) || Boolean(viewOwner?.ours))
    // A database is never changed: ours, it stays as it is; adopted, deploy-glue's tables go into it.
    steps.push(existingStep('database', database, {...owner, marked: true}, [], adopt, noop))
  } else {
    steps.push(step('database', database, 'created', [], () => catalog.createDatabase(database, MARKER)))
  }

  for (const [kind, wanted, existing, owner] of [
    ['table', table, existingTable, tableOwner],
    ['view', view, existingView, viewOwner],
  ] as const) {
    const name = `${database}.${wanted.Name}`
    if (!existing || !owner) {
      steps.push(step(kind, name, 'created', [], () => catalog.createTable(database, wanted)))
      continue
    }

    const {changes, removed, update} = compareTable(existing, wanted)
    // The view follows the table: dropping a column from the view alone hides nothing the table still has.
    // An adopted table was someone else's: its columns are replaced, as the plan line says.
    if (kind === 'table' && owner.ours) checkColumnRemoval(name, removed, options.allowColumnRemoval)
    steps.push(existingStep(kind, name, owner, changes, adopt, () => catalog.updateTable(database, update)))
  }

  steps.push(await crawlerStep(config, catalog, adopt))
  return steps
}

async function crawlerStep(config: DeployConfig, catalog: Catalog, adopt: boolean): Promise<PlannedStep> {
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
  if (!existing) return step('crawler', config.crawler, 'created', [], () => catalog.createCrawler(crawler))
  const owner = crawlerOwnership(existing, await catalog.crawlerTags(config.crawler), crawler)
  const changes = compareCrawler(existing, crawler)
  // UpdateCrawler takes no tags, so marking is a call of its own, made first: a crawler left marked
  // but not updated is updated by the next run, one updated but not marked would read as someone else's.
  return existingStep('crawler', config.crawler, owner, changes, adopt, async () => {
    if (!owner.marked) await catalog.tagCrawler(config.crawler, MARKER)
    if (changes.length > 0) await catalog.updateCrawler(crawler)
  })
}

/** What applying a plan did: the steps done, those not reached, and the failure that stopped it. */
export interface Applied {
  done: ResourceOutcome[]
  notApplied: ResourceOutcome[]
  failure?: CidError
}

/**
 * Applies the planned steps in order (an unchanged step does nothing). A step that fails stops the
 * run: it and the changes after it are not applied, and the failure is handed back with what was done.
 */
export async function applyPlan(steps: readonly PlannedStep[]): Promise<Applied> {
  const applied: Applied = {done: [], notApplied: []}
  for (const s of steps) {
    if (applied.failure) {
      ;(s.action === 'unchanged' ? applied.done : applied.notApplied).push(outcome(s))
      continue
    }

    try {
      await s.apply()
      applied.done.push(outcome(s))
    } catch (error) {
      if (!(error instanceof CidError)) throw error
      applied.failure = error
      applied.notApplied.push(outcome(s))
    }
  }

  return applied
}

export function outcome(s: PlannedStep): ResourceOutcome {
  return {
    kind: s.kind,
    name: s.name,
    action: s.action,
    changes: s.changes,
    ...(s.whyForeign ? {whyForeign: s.whyForeign} : {}),
  }
}

/** Done, only planned (a dry run), or planned and never reached because the run stopped. */
export type OutcomeState = 'done' | 'planned' | 'not applied'

const VERBS: Record<OutcomeState, Record<ResourceAction, string>> = {
  done: {
    created: 'created',
    updated: 'updated',
    adopted: 'adopted',
    unchanged: 'unchanged',
    foreign: 'left untouched',
  },
  planned: {
    created: 'would be created',
    updated: 'would be updated',
    adopted: 'would be adopted',
    unchanged: 'unchanged',
    foreign: 'would be left untouched',
  },
  'not applied': {
    created: 'not created',
    updated: 'not updated',
    adopted: 'not adopted',
    unchanged: 'unchanged',
    foreign: 'left untouched',
  },
}

/** One line per resource: "table kubecost_db.kubecost_table: updated (columns added: ...)". */
export function outcomeLine(o: ResourceOutcome, state: OutcomeState): string {
  const details = [...(o.whyForeign ? [`not deploy-glue's: ${o.whyForeign.join('; ')}`] : []), ...o.changes]
  return `${o.kind} ${o.name}: ${VERBS[state][o.action]}${details.length > 0 ? ` (${details.join('; ')})` : ''}`
}

/** Every line of a run: what was done (or in a dry run, what would be), then the changes the run did not reach. */
export function deployLines(result: {
  dryRun: boolean
  resources: readonly ResourceOutcome[]
  notApplied: readonly ResourceOutcome[]
}): string[] {
  return [
    ...result.resources.map(r => outcomeLine(r, result.dryRun ? 'planned' : 'done')),
    ...result.notApplied.map(r => outcomeLine(r, 'not applied')),
  ]
}

/** `--check`'s failure: what differs from the definition, or undefined when nothing does. */
export function driftError(resources: readonly ResourceOutcome[]): AwsError | undefined {
  const changing = resources.filter(r => r.action !== 'unchanged')
  if (changing.length === 0) return undefined
  const what = changing.map(r => `${r.kind} ${r.name} (${driftOf(r)})`)
  return new AwsError(
    'GLUE_DRIFT',
    `${changing.length} of ${resources.length} Glue resources differ from the definition: ${what.join(', ')}`,
    {suggestions: [`Run deploy-glue without ${flag('check')} to apply the changes.`]},
  )
}

function driftOf(r: ResourceOutcome): string {
  if (r.action === 'created') return 'missing'
  const foreign = r.whyForeign ? [`not deploy-glue's: ${r.whyForeign.join('; ')}`] : []
  return [...foreign, ...(r.action === 'foreign' ? [] : r.changes)].join('; ')
}
