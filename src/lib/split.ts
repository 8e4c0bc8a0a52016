import {rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {
  type DayRange,
  type DayStatus,
  type PlannedDay,
  type RangeOptions,
  availableDays,
  planDays,
  planRange,
  summarizePlan,
} from './backfill.js'
import {type ClusterMapping, clusterFilter} from './cluster-map.js'
import {type Day, addDays, dayOf, dayStart} from './dates.js'
import type {Destination} from './destination/destination.js'
import {CidError, InvalidInputError, KubecostEmptyDayError, RunAbortedError} from './errors.js'
import {RepeatedKeys} from './repeated-keys.js'
import {
  type DayOutcome,
  type ExportDeps,
  type ExportOptions,
  retrySuggestions,
  skipReason,
  stoppedDuring,
  tally,
  tooManyRows,
} from './export.js'
import {allocationParams, assetsParams} from './kubecost/requests.js'
import {Layout} from './layout.js'
import type {Logger} from './log.js'
import {NodeIndex} from './nodes.js'
import type {ParquetWriter} from './parquet/writer.js'
import {RowSpool} from './row-spool.js'
import {NODE_LABEL_KEYS, RowBuilder, totalCostOf} from './rows.js'
import {abbreviate} from './sanitize.js'
import {type Column, contractColumns} from './schema.js'
import {setting} from './settings.js'
import {createWorkDir} from './work-dir.js'

/*
 * Split mode: one Kubecost primary (federated ETL / aggregator) answers for many clusters. One
 * availability call and, per day, one Assets and one Allocation call serve every mapped cluster;
 * the rows are sorted by properties.cluster into one file per cluster per day, each at its own
 * cluster's key. Presence is judged per cluster, so a day present for one cluster and missing for
 * another collects only the missing one's file.
 */

export interface SplitPlanOptions extends RangeOptions {
  clusters: readonly ClusterMapping[]
  /** The key prefix in front of every cluster's layout. */
  prefix: string
  now: Date
  force: boolean
}

/** One cluster's candidate day. */
export interface ClusterDay extends PlannedDay {
  /** The EKS cluster name (from the mapped ARN): the file's name. */
  cluster: string
  /** What Kubecost calls the cluster (properties.cluster). */
  kubecostCluster: string
}

export interface ClusterSummary {
  kubecostCluster: string
  arn: string
  cluster: string
  /** Candidate days Kubecost has for this cluster. */
  available: number
  summary: Record<DayStatus, number>
}

/** A cluster Kubecost reports that the map does not name: never written, never guessed. */
export interface UnmappedCluster {
  kubecostCluster: string
  /** The candidate days Kubecost has for it. */
  days: Day[]
}

export interface SplitPlan {
  splitByCluster: true
  destination: string
  range: DayRange
  /** Candidate days on which at least one mapped cluster has data. */
  available: number
  clusters: ClusterSummary[]
  unmapped: UnmappedCluster[]
  /** Every cluster's candidate days, by date, then in the map's order. */
  days: ClusterDay[]
  /** Over all cluster-days. */
  summary: Record<DayStatus, number>
}

export interface SplitPlanDeps {
  kubecost: ExportDeps['kubecost']
  destination: Destination
  logger: Logger
  signal?: AbortSignal
}

const round = (n: number) => Math.round(n * 1e6) / 1e6

/** The gap analysis per cluster, read-only: what `export --split-by-cluster` acts on and `backfill-plan` shows. */
export async function planSplit(options: SplitPlanOptions, deps: SplitPlanDeps): Promise<SplitPlan> {
  const {logger} = deps
  const {candidates, range} = planRange(options, logger)
  logger.info(
    `Candidate days ${range.from} to ${range.to} (${candidates.length}) for ${options.clusters.length} mapped cluster${options.clusters.length === 1 ? '' : 's'}; destination ${deps.destination.description}`,
    {from: range.from, to: range.to, clusters: options.clusters.length},
  )
  const byCluster = new Map<string, Set<Day>>()
  const anyDay = await availableDays(deps.kubecost, candidates, new Set(), byCluster)
  const mapped = new Set(options.clusters.map(c => c.kubecostCluster))

  const unmapped = [...byCluster.entries()]
    .filter(([id]) => !mapped.has(id))
    .map(([id, days]) => ({kubecostCluster: id, days: [...days].sort()}))
    .sort((a, b) => a.kubecostCluster.localeCompare(b.kubecostCluster))
  if (unmapped.length > 0) {
    logger.warn(
      `Kubecost reports ${unmapped.length} cluster${unmapped.length === 1 ? '' : 's'} that the cluster map does not name, and whose rows are not exported: ${listed(unmapped.map(u => `${shownId(u.kubecostCluster)} (${u.days.length} day${u.days.length === 1 ? '' : 's'})`))}`,
      {unmapped: abbreviate(unmapped.map(u => u.kubecostCluster).join(','), SHOWN_LIST)},
    )
  }

  const layouts = options.clusters.map(c => new Layout(c.cluster, options.prefix))
  const present = await presentByCluster(deps.destination, layouts, deps.signal)
  const mappedDays = new Set<Day>()
  const perCluster = options.clusters.map((mapping, i) => {
    const layout = layouts[i] as Layout
    const available = byCluster.get(mapping.kubecostCluster) ?? new Set<Day>()
    for (const day of available) mappedDays.add(day)
    const days = planDays(
      {candidates, available, present: present[i] as Set<Day>, force: options.force ? range : undefined},
      d => layout.key(d),
    ).map(d => ({...d, cluster: mapping.cluster.name, kubecostCluster: mapping.kubecostCluster}))
    return {mapping, available, days}
  })

  const reported = listed([...byCluster.keys()].map(shownId)) || 'none'
  for (const {mapping, available} of perCluster) {
    const id = shownId(mapping.kubecostCluster)
    if (available.size === 0) {
      logger.warn(
        `Kubecost has no data for mapped cluster ${id} (${mapping.cluster.arn}) on any candidate day; the clusters it reports: ${reported}`,
        {kubecostCluster: mapping.kubecostCluster},
      )
      continue
    }

    // A day the other clusters have and this one lacks: a powered-off cluster, or one that stopped federating.
    const lacking = [...mappedDays].filter(d => !available.has(d)).sort()
    if (lacking.length > 0) {
      logger.warn(`Kubecost has no data for mapped cluster ${id} on ${lacking.join(', ')}, which other clusters have`, {
        kubecostCluster: mapping.kubecostCluster,
        days: lacking.join(','),
      })
    }
  }

  const days = candidates.flatMap((_, d) => perCluster.map(c => c.days[d] as ClusterDay))
  return {
    splitByCluster: true,
    destination: deps.destination.description,
    range,
    available: [...anyDay].filter(d => mappedDays.has(d)).length,
    clusters: perCluster.map(({mapping, available, days}) => ({
      kubecostCluster: mapping.kubecostCluster,
      arn: mapping.cluster.arn,
      cluster: mapping.cluster.name,
      available: available.size,
      summary: summarizePlan(days),
    })),
    unmapped,
    days,
    summary: summarizePlan(days),
  }
}

/** Each layout's present days; clusters of one account and region share a listing. */
async function presentByCluster(
  destination: Destination,
  layouts: readonly Layout[],
  signal?: AbortSignal,
): Promise<Array<Set<Day>>> {
  const listings = new Map<string, string[]>()
  const present: Array<Set<Day>> = []
  for (const layout of layouts) {
    let keys = listings.get(layout.listingPrefix)
    if (!keys) {
      keys = await destination.listKeys(layout.listingPrefix, {signal})
      listings.set(layout.listingPrefix, keys)
    }

    const days = new Set<Day>()
    for (const key of keys) {
      const day = layout.dayOfKey(key)
      if (day) days.add(day)
    }

    present.push(days)
  }

  return present
}

export type SplitExportOptions = SplitPlanOptions &
  Pick<ExportOptions, 'aggregation' | 'labels' | 'annotations' | 'dryRun' | 'maxRowsPerDay' | 'workRoot'>

export type ClusterDayOutcome = DayOutcome & {cluster: string; kubecostCluster: string}

/** Rows Kubecost returned for a cluster the map does not name: counted, reported, not written. */
export interface UnmappedRows {
  date: Day
  kubecostCluster: string
  rows: number
  totalCost: number
}

export interface SplitExportResult extends SplitPlan {
  dryRun: boolean
  outcomes: ClusterDayOutcome[]
  unmappedRows: UnmappedRows[]
  written: number
  failed: number
  skipped: number
}

/**
 * The longest URL of an allocation request. A default nginx in front of Kubecost holds 8 KiB of
 * request line (and answers 414 beyond), other proxies and load balancers less: a day's cluster
 * filter is spread over as many requests as keep each URL (scheme and host included, which the
 * request line does not even carry) within this.
 */
export const MAX_REQUEST_URL = 4096

/** The export job in split mode: each day that some mapped cluster lacks, collected once for all of them. */
export async function runSplitExport(options: SplitExportOptions, deps: ExportDeps): Promise<SplitExportResult> {
  const {logger} = deps
  checkRequestFits(options, deps.kubecost)
  const plan = await planSplit(options, deps)
  const todo = plan.days.filter(d => d.status === 'collect' || d.status === 'recollect')
  const result: SplitExportResult = {
    ...plan,
    dryRun: options.dryRun,
    outcomes: [],
    unmappedRows: [],
    written: 0,
    failed: 0,
    skipped: 0,
  }
  if (plan.available === 0) {
    logger.warn(
      `Kubecost has no data yet for any mapped cluster on any candidate day (${plan.range.from} to ${plan.range.to}); nothing to export`,
    )
  } else {
    const present = plan.summary.present + plan.summary.recollect
    logger.info(
      `Cluster-days available in Kubecost: ${plan.summary.present + plan.summary.collect + plan.summary.recollect}, present at destination: ${present}, to collect: ${todo.length}` +
        (plan.summary.recollect > 0 ? ` (${plan.summary.recollect} forced re-collections)` : ''),
      {present, missing: todo.length},
    )
  }

  const outcomes = new Map<ClusterDay, ClusterDayOutcome>()
  if (todo.length > 0 && !options.dryRun) {
    const workDir = await createWorkDir(options.workRoot ?? tmpdir(), logger)
    const {ParquetWriter: Writer} = await import('./parquet/writer.js')
    const columns = contractColumns({labels: options.labels, annotations: options.annotations})
    // One writer, written one file at a time: memory holds one row group, however many clusters.
    const tools: SplitTools = {writer: new Writer(columns), spool: new RowSpool(workDir, columns), workDir, columns}
    // A target is known by its place in the map: names repeat across accounts and regions.
    const slots = new Map(options.clusters.map((c, i) => [c.kubecostCluster, {mapping: c, slot: i}]))
    try {
      const dates = [...new Set(todo.map(d => d.date))]
      for (const date of dates) {
        const targets = todo
          .filter(d => d.date === date)
          .map(day => ({day, ...(slots.get(day.kubecostCluster) as {mapping: ClusterMapping; slot: number})}))
        const collected = await exportSplitDay(date, targets, tools, options, deps)
        for (const outcome of collected.outcomes) {
          const day = targets.find(t => t.day.kubecostCluster === outcome.kubecostCluster)?.day
          if (day) outcomes.set(day, outcome)
        }

        result.unmappedRows.push(...collected.unmapped)
      }
    } finally {
      tools.spool.clear()
      await rm(workDir, {recursive: true, force: true})
    }
  }

  for (const day of plan.days) {
    const outcome = outcomes.get(day) ?? {
      date: day.date,
      cluster: day.cluster,
      kubecostCluster: day.kubecostCluster,
      status: 'skipped' as const,
      key: day.key,
      reason: skipReason(day),
    }
    result.outcomes.push(outcome)
    tally(result, outcome)
  }

  return result
}

/**
 * Every mapped cluster must fit in a request of its own: an id that does not (with the rest of
 * the URL) is refused before anything is asked of Kubecost.
 */
function checkRequestFits(options: SplitExportOptions, kubecost: ExportDeps['kubecost']): void {
  // Every day's window is as long as any other's.
  const params = allocationParams(dayOf(options.now), options.aggregation)
  for (const {kubecostCluster: id} of options.clusters) {
    const url = kubecost.url('allocation', {...params, filter: clusterFilter([id])})
    if (url.length > MAX_REQUEST_URL) {
      throw InvalidInputError.of(
        'clusterMap',
        abbreviate(id, 100),
        `with this Kubecost cluster id alone, an allocation request's URL is ${url.length.toLocaleString('en-US')} characters, more than the ${MAX_REQUEST_URL.toLocaleString('en-US')} a request may take (${abbreviate(url, 120)})`,
        {
          suggestions: [
            `Check the id (properties.cluster as Kubecost reports it) and the length of ${setting('kubecostUrl')}.`,
          ],
        },
      )
    }
  }
}

/** What every day of a split run reuses: one Parquet writer, the spool, the work directory, the columns. */
interface SplitTools {
  writer: ParquetWriter
  spool: RowSpool
  workDir: string
  columns: readonly Column[]
}

interface Target {
  day: ClusterDay
  mapping: ClusterMapping
  /** The cluster's place in the map: its spool slot and work file, unique where names repeat. */
  slot: number
}

interface TargetState extends Target {
  builder?: RowBuilder
  totalCost: number
  /** A failure of this cluster's rows alone (a corrupt number, too many rows): the others still run. */
  error?: CidError
}

/**
 * Collects one day for the clusters in `targets`: one Assets call, then as few Allocation calls as
 * keep each request within MAX_REQUEST_URL, each filtered on its own clusters; after each call its
 * clusters' files are written and published one by one. A failed Assets call fails every target;
 * a failed Allocation call fails its own clusters; a failure in one cluster's rows fails that
 * cluster only. A termination stops the run.
 */
async function exportSplitDay(
  date: Day,
  targets: readonly Target[],
  tools: SplitTools,
  options: SplitExportOptions,
  deps: ExportDeps,
): Promise<{outcomes: ClusterDayOutcome[]; unmapped: UnmappedRows[]}> {
  const {logger, signal} = deps
  const failed = (target: Target, error: CidError): ClusterDayOutcome => {
    const suggestions = retrySuggestions(error, target.day, deps.destination, `${date} for ${target.day.cluster}`)
    logger.error(
      `Failed to export ${date} for cluster ${target.day.cluster} (Kubecost ${shownId(target.day.kubecostCluster)}): ${error.summary}${suggestions.map(s => ` Try: ${s}`).join('')}`,
      {day: date, cluster: target.day.cluster, code: error.code},
    )
    return {
      date,
      cluster: target.day.cluster,
      kubecostCluster: target.day.kubecostCluster,
      status: 'failed',
      key: target.day.key,
      error: error.summary,
      code: error.code,
      suggestions,
    }
  }

  // What a failure is reported as; a termination (whatever a component made of it) stops the run instead.
  const failureOf = (caught: unknown): CidError => {
    const error: unknown = signal?.aborted ? signal.reason : caught
    if (error instanceof RunAbortedError) throw stoppedDuring(error, date)
    if (!(error instanceof CidError)) throw error
    return error
  }

  const nodes = new NodeIndex({labelKeys: NODE_LABEL_KEYS, perCluster: true})
  try {
    signal?.throwIfAborted()
    await deps.kubecost.stream('assets', assetsParams(date), {
      onEntry: entry => nodes.add(entry.key, entry.value),
      onRestart: () => nodes.clear(),
    })
  } catch (caught) {
    const error = failureOf(caught)
    return {outcomes: targets.map(t => failed(t, error)), unmapped: []}
  }

  const outcomes: ClusterDayOutcome[] = []
  // A server that ignores the filter answers every cluster on every request: each unmapped cluster is counted once.
  const unmapped = new Map<string, UnmappedRows>()
  for (const group of requestGroups(date, targets, options, deps.kubecost)) {
    const states = new Map(group.map((t): [string, TargetState] => [t.day.kubecostCluster, {...t, totalCost: 0}]))
    let collected: {url: string; unmapped: Map<string, UnmappedRows>}
    try {
      signal?.throwIfAborted()
      collected = await collectSplit(date, states, nodes, tools, options, deps)
    } catch (caught) {
      tools.spool.clear()
      const error = failureOf(caught)
      outcomes.push(...group.map(t => failed(t, error)))
      continue
    }

    for (const [id, rows] of collected.unmapped) if (!unmapped.has(id)) unmapped.set(id, rows)
    for (const state of states.values()) {
      const outcome = await publish(date, state, collected.url, tools, options, deps).catch((caught: unknown) =>
        failed(state, failureOf(caught)),
      )
      outcomes.push(outcome)
    }
  }

  for (const rows of unmapped.values()) {
    logger.warn(
      `Kubecost returned ${rows.rows} allocation${rows.rows === 1 ? '' : 's'} (totalCost ${round(rows.totalCost)}) on ${date} for cluster ${rows.kubecostCluster === '' ? '(none)' : shownId(rows.kubecostCluster)}, which the cluster map does not name; they are not written`,
      {day: date, kubecostCluster: rows.kubecostCluster, rows: rows.rows},
    )
  }

  return {outcomes, unmapped: [...unmapped.values()]}
}

/**
 * The day's targets in groups, in the map's order, each group as many clusters as keep its
 * allocation request's URL within MAX_REQUEST_URL (checkRequestFits made sure one always fits).
 */
function requestGroups(
  date: Day,
  targets: readonly Target[],
  options: SplitExportOptions,
  kubecost: ExportDeps['kubecost'],
): Target[][] {
  const params = allocationParams(date, options.aggregation)
  const fits = (group: readonly Target[]) =>
    kubecost.url('allocation', {...params, filter: clusterFilter(group.map(t => t.day.kubecostCluster))}).length <=
    MAX_REQUEST_URL
  const groups: Target[][] = []
  let group: Target[] = []
  for (const target of targets) {
    if (group.length > 0 && !fits([...group, target])) {
      groups.push(group)
      group = []
    }

    group.push(target)
  }

  if (group.length > 0) groups.push(group)
  return groups
}

/** Writes one cluster's file for the day from its spooled rows, checks it and publishes it. */
async function publish(
  date: Day,
  state: TargetState,
  url: string,
  {writer, spool, workDir}: SplitTools,
  options: SplitExportOptions,
  deps: ExportDeps,
): Promise<ClusterDayOutcome> {
  const {day, slot} = state
  const file = join(workDir, `${date}_${slot}.parquet`)
  try {
    if (state.error) throw state.error
    const rows = spool.rows(slot)
    if (rows === 0) {
      throw new KubecostEmptyDayError(
        `Kubecost reported data for cluster ${shownId(day.kubecostCluster)} on ${date} in the availability call, but GET ${abbreviate(url, SHOWN_URL)} returned no allocations for it`,
        {
          suggestions: [
            'Kubecost may still be rebuilding this day (e.g. after a restart, or while the cluster federates); the next run will try it again.',
          ],
        },
      )
    }

    writer.open(file)
    spool.replay(slot, writer)
    writer.finish()
    deps.signal?.throwIfAborted()
    await deps.destination.put(day.key, file, {signal: deps.signal})
    deps.logger.info(
      `Wrote ${writer.rows} rows for ${date} of cluster ${day.cluster} (Kubecost ${shownId(day.kubecostCluster)}) to ${deps.destination.locate(day.key)}`,
      {day: date, cluster: day.cluster, rows: writer.rows, key: day.key},
    )
    return {
      date,
      cluster: day.cluster,
      kubecostCluster: day.kubecostCluster,
      status: 'written',
      key: day.key,
      rows: writer.rows,
      totalCost: state.totalCost,
    }
  } catch (error) {
    writer.discard()
    throw error
  } finally {
    spool.drop(slot)
    await rm(file, {force: true})
  }
}

/** Ids a log line lists at most; the others are counted. */
const LISTED_IDS = 20
/** Characters of a list of ids a log line's field holds. */
const SHOWN_LIST = 2000

/** Items for a log line, joined: the first LISTED_IDS, then how many more there are. */
function listed(items: readonly string[]): string {
  const shown = items.slice(0, LISTED_IDS).join(', ')
  return items.length > LISTED_IDS ? `${shown} and ${items.length - LISTED_IDS} more` : shown
}

/** How much of a request's URL a message shows (the rest is counted): see `abbreviate`. */
const SHOWN_URL = 400
/** How much of a Kubecost cluster id a log line shows: ids come from the map and from Kubecost. */
const SHOWN_ID = 120

/** A Kubecost cluster id for a message: quoted, and cut when long. */
function shownId(id: string): string {
  return abbreviate(JSON.stringify(id), SHOWN_ID)
}

/**
 * Streams the day's allocations of the clusters in `states` (filtered on them where Kubecost
 * supports it) into the spool, each cluster's rows in its own slot; returns the request's URL.
 * Rows of clusters the map does not name are counted.
 */
async function collectSplit(
  date: Day,
  states: ReadonlyMap<string, TargetState>,
  nodes: NodeIndex,
  {spool, columns}: SplitTools,
  options: SplitExportOptions,
  deps: ExportDeps,
): Promise<{url: string; unmapped: Map<string, UnmappedRows>}> {
  const mapped = new Set(options.clusters.map(c => c.kubecostCluster))
  let others = new Map<string, UnmappedRows>()
  const repeated = new RepeatedKeys(deps.kubecost.product, date, deps.logger)
  const params = {...allocationParams(date, options.aggregation), filter: clusterFilter(states.keys())}
  const response = await deps.kubecost.stream('allocation', params, {
    onEntry(entry) {
      deps.signal?.throwIfAborted()
      if (!repeated.first(entry)) return

      const cluster = clusterOf(entry.value)
      if (cluster === undefined) return
      const state = states.get(cluster)
      if (!state) {
        // A mapped cluster of another request, or one whose file is present: the server ignored the filter.
        if (mapped.has(cluster)) return
        let rows = others.get(cluster)
        if (!rows) others.set(cluster, (rows = {date, kubecostCluster: cluster, rows: 0, totalCost: 0}))
        rows.rows++
        rows.totalCost += totalCostOf(entry.value)
        return
      }

      if (state.error) return
      try {
        state.builder ??= new RowBuilder({
          cluster: state.mapping.cluster,
          product: deps.kubecost.product,
          labelKeys: options.labels,
          annotationKeys: options.annotations,
          nodes,
          columns,
          windowStartMs: dayStart(date).getTime(),
          windowEndMs: dayStart(addDays(date, 1)).getTime(),
        })
        if (!state.builder.write(entry.key, entry.value, spool.into(state.slot))) return
        state.totalCost += totalCostOf(entry.value)
        if (spool.rows(state.slot) > options.maxRowsPerDay) {
          const what = `of cluster ${shownId(cluster)} for ${date}; its file`
          throw tooManyRows('Kubecost returned', options.maxRowsPerDay, what, 'cluster-day')
        }
      } catch (error) {
        if (!(error instanceof CidError) || error instanceof RunAbortedError) throw error
        // Only this cluster's file is lost; its rows so far are dropped, the other clusters go on.
        state.error = error
        spool.drop(state.slot)
      }
    },
    onRestart() {
      spool.clear()
      for (const state of states.values()) {
        state.totalCost = 0
        delete state.error
      }

      others = new Map()
      repeated.reset()
    },
  })
  repeated.finish()
  return {url: response.url, unmapped: others}
}

/** The allocation's cluster, '' when it names none; undefined for entries that are not allocations (`{}`). */
function clusterOf(allocation: unknown): string | undefined {
  if (typeof allocation !== 'object' || allocation === null || Object.keys(allocation).length === 0) return undefined
  const properties = (allocation as {properties?: unknown}).properties
  const cluster =
    typeof properties === 'object' && properties !== null ? (properties as {cluster?: unknown}).cluster : undefined
  return typeof cluster === 'string' ? cluster : ''
}
