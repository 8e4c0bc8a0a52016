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
import {type Day, addDays, dayStart} from './dates.js'
import type {Destination} from './destination/destination.js'
import {CidError, KubecostEmptyDayError, RunAbortedError} from './errors.js'
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
import {NODE_LABEL_KEYS, RowBuilder, totalCostOf} from './rows.js'
import {contractColumns} from './schema.js'
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

const quote = (id: string) => JSON.stringify(id)
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
      `Kubecost reports ${unmapped.length} cluster${unmapped.length === 1 ? '' : 's'} that the cluster map does not name, and whose rows are not exported: ${unmapped.map(u => `${quote(u.kubecostCluster)} (${u.days.length} day${u.days.length === 1 ? '' : 's'})`).join(', ')}`,
      {unmapped: unmapped.map(u => u.kubecostCluster).join(',')},
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

  const reported = [...byCluster.keys()].map(quote).join(', ') || 'none'
  for (const {mapping, available} of perCluster) {
    const id = quote(mapping.kubecostCluster)
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
 * A cluster's rows are buffered by its own writer until a row group is full. With one writer per
 * cluster open at once, the row group shrinks with the number of clusters, so the rows held in
 * memory stay about one single-cluster row group's worth however many clusters a day has.
 */
export const MIN_SPLIT_ROW_GROUP_ROWS = 1000

export function splitRowGroupRows(clusters: number, rowGroupRows: number): number {
  return Math.max(MIN_SPLIT_ROW_GROUP_ROWS, Math.floor(rowGroupRows / Math.max(1, clusters)))
}

/** The export job in split mode: each day that some mapped cluster lacks, collected once for all of them. */
export async function runSplitExport(options: SplitExportOptions, deps: ExportDeps): Promise<SplitExportResult> {
  const {logger} = deps
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
    const {ParquetWriter: Writer, ROW_GROUP_ROWS} = await import('./parquet/writer.js')
    const columns = contractColumns({labels: options.labels, annotations: options.annotations})
    const rowGroupRows = splitRowGroupRows(options.clusters.length, ROW_GROUP_ROWS)
    // One writer per cluster for the run: its buffers serve that cluster's every day.
    const writers = new Map<string, ParquetWriter>()
    const writerOf = (id: string) => {
      let writer = writers.get(id)
      if (!writer) writers.set(id, (writer = new Writer(columns, {rowGroupRows})))
      return writer
    }

    const mappings = new Map(options.clusters.map(c => [c.kubecostCluster, c]))
    try {
      const dates = [...new Set(todo.map(d => d.date))]
      for (const date of dates) {
        const targets = todo
          .filter(d => d.date === date)
          .map(day => {
            const mapping = mappings.get(day.kubecostCluster) as ClusterMapping
            return {
              day,
              mapping,
              writer: writerOf(day.kubecostCluster),
              file: join(workDir, `${date}_${day.cluster}.parquet`),
            }
          })
        const collected = await exportSplitDay(date, targets, options, deps)
        for (const outcome of collected.outcomes) {
          const day = targets.find(t => t.day.kubecostCluster === outcome.kubecostCluster)?.day
          if (day) outcomes.set(day, outcome)
        }

        result.unmappedRows.push(...collected.unmapped)
      }
    } finally {
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

interface Target {
  day: ClusterDay
  mapping: ClusterMapping
  writer: ParquetWriter
  file: string
}

interface TargetState extends Target {
  builder: RowBuilder
  totalCost: number
  /** A failure of this cluster's rows alone (a corrupt number, too many rows): the others still run. */
  error?: CidError
}

/**
 * Collects one day for the clusters in `targets` with one Assets and one Allocation call, writes
 * each cluster's file and publishes it. A failure of the calls fails every target of the day; a
 * failure in one cluster's rows fails that cluster only. A termination stops the run.
 */
async function exportSplitDay(
  date: Day,
  targets: readonly Target[],
  options: SplitExportOptions,
  deps: ExportDeps,
): Promise<{outcomes: ClusterDayOutcome[]; unmapped: UnmappedRows[]}> {
  const {logger, signal} = deps
  const states = new Map<string, TargetState>()
  const failed = (target: Target, error: CidError): ClusterDayOutcome => {
    const suggestions = retrySuggestions(error, target.day, deps.destination, `${date} for ${target.day.cluster}`)
    logger.error(
      `Failed to export ${date} for cluster ${target.day.cluster} (Kubecost ${quote(target.day.kubecostCluster)}): ${error.summary}${suggestions.map(s => ` Try: ${s}`).join('')}`,
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

  let collected: {url: string; unmapped: Map<string, UnmappedRows>}
  try {
    signal?.throwIfAborted()
    const nodes = new NodeIndex({labelKeys: NODE_LABEL_KEYS, perCluster: true})
    await deps.kubecost.stream('assets', assetsParams(date), {
      onEntry: entry => nodes.add(entry.key, entry.value),
      onRestart: () => nodes.clear(),
    })
    for (const target of targets) {
      states.set(target.day.kubecostCluster, {
        ...target,
        totalCost: 0,
        builder: new RowBuilder({
          cluster: target.mapping.cluster,
          product: deps.kubecost.product,
          labelKeys: options.labels,
          annotationKeys: options.annotations,
          nodes,
          windowStartMs: dayStart(date).getTime(),
          windowEndMs: dayStart(addDays(date, 1)).getTime(),
        }),
      })
      target.writer.open(target.file)
    }

    collected = await collectSplit(date, states, options, deps)
  } catch (caught) {
    for (const state of states.values()) state.writer.discard()
    const error: unknown = signal?.aborted ? signal.reason : caught
    if (error instanceof RunAbortedError) throw stoppedDuring(error, date)
    if (!(error instanceof CidError)) throw error
    return {outcomes: targets.map(t => failed(t, error)), unmapped: []}
  }

  const {url, unmapped} = collected
  const outcomes: ClusterDayOutcome[] = []
  for (const state of states.values()) {
    const {day, writer, file} = state
    try {
      if (state.error) throw state.error
      if (writer.rows === 0) {
        throw new KubecostEmptyDayError(
          `Kubecost reported data for cluster ${quote(day.kubecostCluster)} on ${date} in the availability call, but GET ${url} returned no allocations for it`,
          {
            suggestions: [
              'Kubecost may still be rebuilding this day (e.g. after a restart, or while the cluster federates); the next run will try it again.',
            ],
          },
        )
      }

      writer.finish()
      signal?.throwIfAborted()
      await deps.destination.put(day.key, file, {signal})
      logger.info(
        `Wrote ${writer.rows} rows for ${date} of cluster ${day.cluster} (Kubecost ${quote(day.kubecostCluster)}) to ${deps.destination.locate(day.key)}`,
        {day: date, cluster: day.cluster, rows: writer.rows, key: day.key},
      )
      outcomes.push({
        date,
        cluster: day.cluster,
        kubecostCluster: day.kubecostCluster,
        status: 'written',
        key: day.key,
        rows: writer.rows,
        totalCost: state.totalCost,
      })
    } catch (caught) {
      writer.discard()
      const error: unknown = signal?.aborted ? signal.reason : caught
      if (error instanceof RunAbortedError) {
        for (const other of states.values()) other.writer.discard()
        throw stoppedDuring(error, date)
      }

      if (!(error instanceof CidError)) throw error
      outcomes.push(failed(state, error))
    } finally {
      await rm(file, {force: true})
    }
  }

  for (const rows of unmapped.values()) {
    logger.warn(
      `Kubecost returned ${rows.rows} allocation${rows.rows === 1 ? '' : 's'} (totalCost ${round(rows.totalCost)}) on ${date} for cluster ${rows.kubecostCluster === '' ? '(none)' : quote(rows.kubecostCluster)}, which the cluster map does not name; they are not written`,
      {day: date, kubecostCluster: rows.kubecostCluster, rows: rows.rows},
    )
  }

  return {outcomes, unmapped: [...unmapped.values()]}
}

/**
 * Streams the day's allocations of the target clusters (filtered on them where Kubecost supports
 * it) into each cluster's writer; returns the request's URL. Rows of other clusters are counted.
 */
async function collectSplit(
  date: Day,
  states: ReadonlyMap<string, TargetState>,
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
        // A mapped cluster whose file for the day is present: the server ignored the filter.
        if (mapped.has(cluster)) return
        let rows = others.get(cluster)
        if (!rows) others.set(cluster, (rows = {date, kubecostCluster: cluster, rows: 0, totalCost: 0}))
        rows.rows++
        rows.totalCost += totalCostOf(entry.value)
        return
      }

      if (state.error) return
      try {
        if (!state.builder.write(entry.key, entry.value, state.writer)) return
        state.totalCost += totalCostOf(entry.value)
        if (state.writer.rows > options.maxRowsPerDay) {
          const what = `of cluster ${quote(cluster)} for ${date}; its file`
          throw tooManyRows('Kubecost returned', options.maxRowsPerDay, what, 'cluster-day')
        }
      } catch (error) {
        if (!(error instanceof CidError) || error instanceof RunAbortedError) throw error
        // Only this cluster's file is lost; its writer is reopened empty so the other clusters go on.
        state.error = error
        state.writer.discard()
      }
    },
    onRestart() {
      for (const state of states.values()) {
        state.writer.discard()
        state.writer.open(state.file)
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
