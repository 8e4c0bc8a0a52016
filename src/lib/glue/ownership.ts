/**
 * Which existing catalog objects deploy-glue may change. What it creates carries a marker: the
 * parameter managed-by=kubecost-cid on databases, tables and views, the same tag on crawlers and
 * workgroups. A marked object is ours while it is still the kind of object we made where we made it
 * (an EXTERNAL_TABLE at the bucket and prefix given, a view over our table, a crawler of our table).
 * An unmarked one (made by an earlier version of this tool, or by the original solution's Terraform)
 * is ours only when it matches in full what those wrote. Anything else belongs to someone else: it is
 * reported and never changed, unless the user adopts it.
 */
import {CidError, EXIT_FAILURE} from '../errors.js'
import {flag, setting} from '../settings.js'
import {type ExistingCrawler, type ExistingTable, sameJson} from './compare.js'
import {
  type CrawlerDefinition,
  MARKER_KEY,
  MARKER_VALUE,
  PARQUET,
  PARTITION_KEYS,
  type TableDefinition,
  decodeView,
  viewSql,
} from './definitions.js'

/** The change phrase of an object of ours that did not carry the marker yet. */
export const MARKING = `marked ${MARKER_KEY}=${MARKER_VALUE}`

/** The description deploy-glue gives the workgroups it creates (before the marker, the only sign of them). */
export const WORKGROUP_DESCRIPTION = 'Kubecost data for the Cloud Intelligence Dashboards'

/** Whether an existing object is deploy-glue's, whether it carries the marker, and if it is not ours, why. */
export interface Ownership {
  ours: boolean
  marked: boolean
  reasons: string[]
}

/** Someone else's objects that deploy-glue left untouched: exit 1 (nothing was changed). */
export class ForeignResourceError extends CidError {
  readonly code = 'GLUE_FOREIGN'
  readonly exitCode = EXIT_FAILURE
}

const norm = (value: string | undefined) => (value ?? '').trim().toLowerCase()
const slash = (location: string | undefined) => (location ?? '').replace(/\/*$/, '/')
const kindOf = (type: string | undefined) =>
  type ? `${/^[AEIOU]/i.test(type) ? 'an' : 'a'} ${type}` : 'a table without a type'
const shorten = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

interface Mark {
  marked: boolean
  /** Another tool's managed-by: whose it is, said plainly, whatever its shape. */
  claimed: boolean
  reasons: string[]
}

function marker(values: Readonly<Record<string, string>> | undefined, what: 'parameter' | 'tag'): Mark {
  const value = values?.[MARKER_KEY]
  if (value === MARKER_VALUE) return {marked: true, claimed: false, reasons: []}
  if (value !== undefined)
    return {marked: false, claimed: true, reasons: [`its ${MARKER_KEY} ${what} says ${JSON.stringify(value)}`]}
  return {marked: false, claimed: false, reasons: [`it has no ${MARKER_KEY}=${MARKER_VALUE} ${what}`]}
}

/** Ours when marked and `identity` finds nothing, or unmarked, unclaimed, and neither `identity` nor `shape` finds anything. */
function verdict(mark: Mark, identity: readonly string[], shape: () => readonly string[]): Ownership {
  if (mark.marked) return {ours: identity.length === 0, marked: true, reasons: [...identity]}
  const mismatches = mark.claimed ? identity : [...identity, ...shape()]
  if (!mark.claimed && mismatches.length === 0) return {ours: true, marked: false, reasons: []}
  return {ours: false, marked: false, reasons: [...mark.reasons, ...mismatches]}
}

/** The table over the exported files: an EXTERNAL_TABLE at the bucket and prefix given; unmarked, also Parquet with the exporter's columns and partition keys. */
export function tableOwnership(
  existing: ExistingTable,
  wanted: TableDefinition,
  contractNames: readonly string[],
): Ownership {
  const sd = existing.StorageDescriptor ?? {}
  const identity: string[] = []
  if (norm(existing.TableType) !== 'external_table')
    identity.push(`it is ${kindOf(existing.TableType)}, not an EXTERNAL_TABLE`)
  if (slash(sd.Location) !== slash(wanted.StorageDescriptor.Location))
    identity.push(`it reads ${sd.Location ?? 'no location'}, not ${wanted.StorageDescriptor.Location ?? ''}`)
  const shape = () => {
    const mismatches: string[] = []
    if (sd.InputFormat !== PARQUET.input || sd.SerdeInfo?.SerializationLibrary !== PARQUET.serde)
      mismatches.push(`it is not stored as Parquet (SerDe ${sd.SerdeInfo?.SerializationLibrary ?? 'none'})`)
    const keys = (existing.PartitionKeys ?? []).map(k => norm(k.Name))
    if (keys.join() !== PARTITION_KEYS.join())
      mismatches.push(`its partition keys are (${keys.join(', ')}), not (${PARTITION_KEYS.join(', ')})`)
    const have = new Set((sd.Columns ?? []).map(c => norm(c.Name)))
    const missing = contractNames.filter(name => !have.has(name))
    if (missing.length > 0)
      mismatches.push(
        `it lacks ${missing.length} of the exporter's columns (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`,
      )
    return mismatches
  }

  return verdict(marker(existing.Parameters, 'parameter'), identity, shape)
}

/**
 * The view: a Glue VIRTUAL_VIEW holding an Athena view whose SQL is the one deploy-glue (and the
 * original Terraform) writes over the table, for any number of months. A view with other SQL was
 * customised, by hand or by other tooling, whether or not it carries the marker.
 */
export function viewOwnership(existing: ExistingTable, database: string, table: string): Ownership {
  const identity: string[] = []
  const view = decodeView(existing.ViewOriginalText)
  if (norm(existing.TableType) !== 'virtual_view')
    identity.push(`it is ${kindOf(existing.TableType)}, not a VIRTUAL_VIEW`)
  else if (!view) identity.push('it is not an Athena (Presto) view')
  else if (!ourViewSql(view.originalSql, database, table)) {
    // Decoded from someone else's JSON: the type says string, the text may say otherwise.
    const sql: unknown = view.originalSql
    identity.push(
      `its SQL is not deploy-glue's over ${database}.${table}: ${typeof sql === 'string' ? shorten(sql) : 'none'}`,
    )
  }
  return verdict(marker(existing.Parameters, 'parameter'), identity, () => [])
}

/** `viewSql(database, table, months)` for some number of months. */
function ourViewSql(sql: unknown, database: string, table: string): boolean {
  if (typeof sql !== 'string') return false
  const months = /INTERVAL '(\d+)' MONTH/.exec(sql)?.[1]
  return months !== undefined && sql.trim() === viewSql(database, table, Number(months))
}

/** Target lists of a crawler other than its catalog targets that are not empty (S3Targets, JdbcTargets...). */
function otherTargets(targets: ExistingCrawler['Targets']): Array<[string, unknown[]]> {
  return Object.entries(targets ?? {}).filter(
    (entry): entry is [string, unknown[]] =>
      entry[0] !== 'CatalogTargets' && Array.isArray(entry[1]) && entry[1].length > 0,
  )
}

/** Where a crawler looks, for messages: "catalog table db.t, s3://bucket/x/, JdbcTargets". */
export function crawlerTargets(targets: ExistingCrawler['Targets']): string {
  const catalog = (targets?.CatalogTargets ?? []).flatMap(t =>
    (t.Tables ?? []).map(name => `catalog table ${t.DatabaseName ?? ''}.${name}`),
  )
  const others = otherTargets(targets).flatMap(([kind, list]) =>
    kind === 'S3Targets' ? list.map(t => (t as {Path?: string} | undefined)?.Path ?? 'an S3 path') : [kind],
  )
  const all = [...catalog, ...others]
  return all.length > 0 ? all.join(', ') : 'nothing'
}

/** The crawler: one of the table only; unmarked, also with the schema change policy and configuration deploy-glue writes. */
export function crawlerOwnership(
  existing: ExistingCrawler,
  tags: Readonly<Record<string, string>>,
  wanted: CrawlerDefinition,
): Ownership {
  const targets = existing.Targets?.CatalogTargets ?? []
  const tables = (targets[0]?.Tables ?? []).map(norm)
  const onlyTable =
    targets.length === 1 &&
    norm(targets[0]?.DatabaseName) === norm(wanted.DatabaseName) &&
    tables.length === 1 &&
    tables[0] === norm(wanted.TableName) &&
    otherTargets(existing.Targets).length === 0
  const identity = onlyTable
    ? []
    : [`it crawls ${crawlerTargets(existing.Targets)}, not only the table ${wanted.DatabaseName}.${wanted.TableName}`]
  const shape = () => {
    const mismatches: string[] = []
    const policy = existing.SchemaChangePolicy
    if (policy?.UpdateBehavior !== wanted.UpdateBehavior || policy.DeleteBehavior !== wanted.DeleteBehavior)
      mismatches.push(
        `its schema change policy is ${policy?.UpdateBehavior ?? 'none'}/${policy?.DeleteBehavior ?? 'none'}, not ${wanted.UpdateBehavior}/${wanted.DeleteBehavior}`,
      )
    if (!sameJson(existing.Configuration, wanted.Configuration))
      mismatches.push("its configuration is not deploy-glue's (partitions inheriting the table's schema)")
    return mismatches
  }

  return verdict(marker(tags, 'tag'), identity, shape)
}

/** A workgroup deploy-glue made: tagged, or (before the tag) with the description and enforced configuration it gives them. */
export function workgroupOwnership(
  have: {description?: string; enforced?: boolean},
  tags: Readonly<Record<string, string>>,
): Ownership {
  const shape = () =>
    have.description === WORKGROUP_DESCRIPTION && have.enforced === true
      ? []
      : [
          `its description ${have.description === undefined ? 'is empty' : `is ${JSON.stringify(shorten(have.description, 60))}`}${have.enforced === true ? '' : ' and its configuration is not enforced'}, unlike the workgroups deploy-glue creates`,
        ]
  return verdict(marker(tags, 'tag'), [], shape)
}

/**
 * A database is never changed, only created; one that exists is ours when it carries the marker, or
 * when it holds the table or view that is ours (an earlier version or the original Terraform made it).
 */
export function databaseOwnership(
  parameters: Readonly<Record<string, string>> | undefined,
  holdsOurs: boolean,
): Ownership {
  const shape = () => (holdsOurs ? [] : ['it holds no table or view deploy-glue made'])
  return verdict(marker(parameters, 'parameter'), [], shape)
}

/** What stops a run that found someone else's objects, and how to go on. */
export function foreignError(
  foreign: ReadonlyArray<{kind: string; name: string; whyForeign?: readonly string[]}>,
  workgroup: boolean,
): ForeignResourceError {
  const what = foreign.map(f => `${f.kind} ${f.name} (${(f.whyForeign ?? []).join('; ')})`)
  return new ForeignResourceError(
    `${foreign.length} existing Glue resource${foreign.length === 1 ? ' was' : 's were'} not made by deploy-glue and ${foreign.length === 1 ? 'was' : 'were'} left untouched: ${what.join(', ')}; nothing was changed`,
    {
      suggestions: [
        `If ${foreign.length === 1 ? 'it is' : 'they are'} meant to be the dashboard's, pass ${setting('adopt')} to update ${foreign.length === 1 ? 'it' : 'them'} in place and mark ${foreign.length === 1 ? 'it' : 'them'} as deploy-glue's from then on (${flag('dryRun')} ${flag('adopt')} shows what would change).`,
        `Otherwise give deploy-glue names of its own: ${[flag('database'), flag('table'), flag('view'), flag('crawler'), ...(workgroup ? [flag('createWorkgroup')] : [])].join(', ')}.`,
      ],
    },
  )
}
