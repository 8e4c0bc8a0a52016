/**
 * Deciding whether an existing Glue resource matches what deploy-glue wants, semantically: Glue
 * stores column names lower-case, returns defaults and fields nobody sent (CreateTime, Compressed,
 * NumberOfBuckets, parameters a crawler adds), and may format JSON its own way. Only what the
 * definition says is compared; everything else Glue or others keep is left alone.
 */
import {ConfigError} from '../errors.js'
import {type CrawlerDefinition, type GlueColumn, MARKER_KEY, type TableDefinition, decodeView} from './definitions.js'
import {envVar, flag} from '../settings.js'

/** A table or view as Glue returns it: anything may be missing. */
export interface ExistingTable {
  TableType?: string
  Parameters?: Record<string, string>
  StorageDescriptor?: {
    Columns?: Array<{Name?: string; Type?: string}>
    Location?: string
    InputFormat?: string
    OutputFormat?: string
    SerdeInfo?: {SerializationLibrary?: string; Parameters?: Record<string, string>}
    Parameters?: Record<string, string>
  }
  PartitionKeys?: Array<{Name?: string; Type?: string}>
  ViewOriginalText?: string
  ViewExpandedText?: string
}

export interface ExistingCrawler {
  Role?: string
  Targets?: {CatalogTargets?: Array<{DatabaseName?: string; Tables?: string[]}>; S3Targets?: unknown[]}
  Schedule?: {ScheduleExpression?: string}
  SchemaChangePolicy?: {UpdateBehavior?: string; DeleteBehavior?: string}
  Configuration?: string
}

/** Removing a label or annotation column hides that data from Athena: done only when asked for. */
export class ColumnRemovalError extends ConfigError {
  override readonly code = 'COLUMN_REMOVAL'
}

export interface TableComparison {
  /** What differs, one phrase each ("columns added: x"); empty when the table matches. */
  changes: string[]
  /** Columns the table has and the definition does not. */
  removed: string[]
  /** What to send: the definition, keeping parameters others added. */
  update: TableDefinition
}

const norm = (value: string | undefined) => (value ?? '').trim().toLowerCase()
const slash = (location: string | undefined) => (location ?? '').replace(/\/*$/, '/')

function columns(list: ReadonlyArray<{Name?: string; Type?: string}> | undefined): GlueColumn[] {
  return (list ?? []).map(c => ({Name: norm(c.Name), Type: norm(c.Type)}))
}

/** The differences between two column lists, as phrases, and the names the wanted list drops. */
export function compareColumns(
  have: readonly GlueColumn[],
  want: readonly GlueColumn[],
  what = 'columns',
): {changes: string[]; removed: string[]} {
  const haveTypes = new Map(have.map(c => [c.Name, c.Type]))
  const wantTypes = new Map(want.map(c => [c.Name, c.Type]))
  const added = want.filter(c => !haveTypes.has(c.Name)).map(c => c.Name)
  const removed = have.filter(c => !wantTypes.has(c.Name)).map(c => c.Name)
  const retyped = want
    .filter(c => haveTypes.has(c.Name) && haveTypes.get(c.Name) !== c.Type)
    .map(c => `${c.Name} (${haveTypes.get(c.Name) ?? ''} → ${c.Type})`)
  const changes: string[] = []
  if (added.length > 0) changes.push(`${what} added: ${added.join(', ')}`)
  if (removed.length > 0) changes.push(`${what} removed: ${removed.join(', ')}`)
  if (retyped.length > 0) changes.push(`${what} retyped: ${retyped.join(', ')}`)
  if (changes.length === 0 && have.map(c => c.Name).join() !== want.map(c => c.Name).join())
    changes.push(`${what} reordered`)
  return {changes, removed}
}

/** Whether `have` holds every key of `want` with the same value (others may add their own). */
function hasParameters(have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v)
}

export function compareTable(existing: ExistingTable, wanted: TableDefinition): TableComparison {
  const sd = existing.StorageDescriptor ?? {}
  const want = wanted.StorageDescriptor
  const changes: string[] = []
  if (norm(existing.TableType) !== norm(wanted.TableType))
    changes.push(`table type changed: ${existing.TableType ?? 'none'} → ${wanted.TableType}`)
  // The marker is reported on its own (ownership.ts), as what it is.
  const parameters = Object.entries(wanted.Parameters).filter(([key]) => key !== MARKER_KEY)
  if (!hasParameters(existing.Parameters, Object.fromEntries(parameters))) changes.push('table parameters changed')
  if (want.Location !== undefined && slash(sd.Location) !== slash(want.Location))
    changes.push(`location changed: ${sd.Location ?? 'none'} → ${want.Location}`)
  if (want.InputFormat !== undefined && sd.InputFormat !== want.InputFormat) changes.push('input format changed')
  if (want.OutputFormat !== undefined && sd.OutputFormat !== want.OutputFormat) changes.push('output format changed')
  if (
    want.SerdeInfo &&
    (sd.SerdeInfo?.SerializationLibrary !== want.SerdeInfo.SerializationLibrary ||
      !hasParameters(sd.SerdeInfo?.Parameters, want.SerdeInfo.Parameters))
  ) {
    changes.push('SerDe changed')
  }

  if (!hasParameters(sd.Parameters, want.Parameters)) changes.push('storage parameters changed')
  const cols = compareColumns(columns(sd.Columns), columns(want.Columns))
  changes.push(...cols.changes)
  changes.push(
    ...compareColumns(columns(existing.PartitionKeys), columns(wanted.PartitionKeys), 'partition keys').changes,
  )
  if (wanted.ViewOriginalText !== undefined) changes.push(...compareView(existing, wanted))
  const update: TableDefinition = {
    ...wanted,
    Parameters: {...existing.Parameters, ...wanted.Parameters},
    StorageDescriptor: {...want, ...(want.Parameters ? {Parameters: {...sd.Parameters, ...want.Parameters}} : {})},
  }
  return {changes, removed: cols.removed, update}
}

/** A view's columns and SQL live in its encoded original text: compare them decoded. */
function compareView(existing: ExistingTable, wanted: TableDefinition): string[] {
  const want = decodeView(wanted.ViewOriginalText)
  const have = decodeView(existing.ViewOriginalText)
  if (!want) throw new Error('the wanted view definition does not decode')
  if (!have) return ['view definition is not an Athena (Presto) view']
  const changes: string[] = []
  if (have.originalSql !== want.originalSql) changes.push(`view SQL changed: ${have.originalSql} → ${want.originalSql}`)
  if (have.catalog !== want.catalog || have.schema !== want.schema) changes.push('view catalog or database changed')
  const asGlue = (list: PrestoViewColumns) =>
    (Array.isArray(list) ? list : []).map(c => ({Name: norm(c.name), Type: norm(c.type)}))
  changes.push(...compareColumns(asGlue(have.columns), asGlue(want.columns), 'view columns').changes)
  if (existing.ViewExpandedText !== wanted.ViewExpandedText) changes.push('view expanded text changed')
  return [...new Set(changes)]
}

type PrestoViewColumns = Array<{name?: string; type?: string}> | undefined

/**
 * Refuses a table update that drops columns unless the user allowed it: the files still hold that
 * data, and Athena would stop seeing it.
 */
export function checkColumnRemoval(table: string, removed: readonly string[], allowed: boolean): void {
  if (removed.length === 0 || allowed) return
  throw new ColumnRemovalError(
    `Table ${table} has columns that ${flag('labels')}/${flag('annotations')} (${envVar('labels')}/${envVar('annotations')}) no longer list: ${removed.join(', ')}; removing them stops Athena from seeing that data`,
    {
      suggestions: [
        `Add the keys back to ${flag('labels')}/${flag('annotations')} (the union of what every cluster exports), or`,
        `pass ${flag('allowColumnRemoval')} (${envVar('allowColumnRemoval')}=true) to remove them from the table (the files keep the data).`,
      ],
    },
  )
}

/** A role named either way (name, path/name, or ARN) is the same role. */
function sameRole(a: string | undefined, b: string): boolean {
  const name = (r: string) =>
    r
      .replace(/^arn:[^:]+:iam::\d{12}:role\//, '')
      .split('/')
      .pop() ?? r
  return a !== undefined && (a === b || name(a) === name(b))
}

/** JSON compared as data, not as text: Glue may return the configuration formatted its own way. */
export function sameJson(a: string | undefined, b: string): boolean {
  try {
    return canonical(JSON.parse(a ?? 'null')) === canonical(JSON.parse(b))
  } catch {
    return false
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }

  return JSON.stringify(value)
}

export function compareCrawler(existing: ExistingCrawler, wanted: CrawlerDefinition): string[] {
  const changes: string[] = []
  if (!sameRole(existing.Role, wanted.Role)) changes.push(`role changed: ${existing.Role ?? 'none'} → ${wanted.Role}`)
  const targets = existing.Targets?.CatalogTargets ?? []
  const target = targets[0]
  const tables = (target?.Tables ?? []).map(norm)
  if (
    targets.length !== 1 ||
    (existing.Targets?.S3Targets ?? []).length > 0 ||
    norm(target?.DatabaseName) !== norm(wanted.DatabaseName) ||
    tables.length !== 1 ||
    tables[0] !== norm(wanted.TableName)
  ) {
    changes.push(`target changed: → catalog table ${wanted.DatabaseName}.${wanted.TableName}`)
  }

  const schedule = existing.Schedule?.ScheduleExpression
  if ((schedule ?? '').trim() !== wanted.Schedule)
    changes.push(`schedule changed: ${schedule ?? 'none'} → ${wanted.Schedule}`)
  const policy = existing.SchemaChangePolicy
  if (policy?.UpdateBehavior !== wanted.UpdateBehavior || policy.DeleteBehavior !== wanted.DeleteBehavior) {
    changes.push(
      `schema change policy changed: update ${policy?.UpdateBehavior ?? 'none'}/delete ${policy?.DeleteBehavior ?? 'none'} → ${wanted.UpdateBehavior}/${wanted.DeleteBehavior}`,
    )
  }

  if (!sameJson(existing.Configuration, wanted.Configuration)) changes.push('configuration changed')
  return changes
}
