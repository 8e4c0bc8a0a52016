import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type DayRange, type PlannedDay, availableDays, daysToCollect, planDays, presentDays, summarizePlan} from './backfill.js'
import type {ClusterIdentity} from './cluster.js'
import {type Day, candidateDays, dayStart, addDays} from './dates.js'
import type {Destination} from './destination/destination.js'
import {CidError, KubecostEmptyDayError, describeCause} from './errors.js'
import type {KubecostClient} from './kubecost/client.js'
import {type Aggregation, allocationParams, assetsParams} from './kubecost/requests.js'
import type {Layout} from './layout.js'
import type {Logger} from './log.js'
import {NodeIndex} from './nodes.js'
import {ParquetEngine} from './parquet.js'
import {RowBuilder} from './rows.js'
import {contractColumns} from './schema.js'

export interface ExportOptions {
  cluster: ClusterIdentity
  layout: Layout
  aggregation: Aggregation
  labels: readonly string[]
  annotations: readonly string[]
  backfillDays: number
  now: Date
  dryRun: boolean
  force?: DayRange
}

export interface ExportDeps {
  kubecost: KubecostClient
  destination: Destination
  logger: Logger
}

export type DayOutcome =
  | {date: Day; status: 'written'; key: string; rows: number; totalCost: number}
  | {date: Day; status: 'failed'; key: string; error: string; code: string}

export interface ExportResult {
  cluster: string
  destination: string
  range: {from: Day; to: Day}
  dryRun: boolean
  plan: PlannedDay[]
  summary: ReturnType<typeof summarizePlan>
  outcomes: DayOutcome[]
  written: number
  failed: number
}

/**
 * The export job: find the days Kubecost has and the destination lacks, collect each (oldest first)
 * into one Parquet file, publish it. One day's failure is reported and the others still run.
 */
export async function runExport(options: ExportOptions, deps: ExportDeps): Promise<ExportResult> {
  const {layout} = options
  const {logger} = deps
  const candidates = candidateDays(options.now, options.backfillDays)
  const from = candidates[0] as Day
  const to = candidates.at(-1) as Day
  logger.info(
    `Candidate days ${from} to ${to} (${candidates.length}) for cluster ${options.cluster.name}; destination ${deps.destination.locate(layout.listingPrefix)}`,
    {from, to},
  )

  const available = await availableDays(deps.kubecost, candidates)
  const present = await presentDays(deps.destination, layout)
  const plan = planDays({candidates, available, present, force: options.force}, (d) => layout.key(d))
  const summary = summarizePlan(plan)
  const todo = daysToCollect(plan)
  const result: ExportResult = {
    cluster: options.cluster.name,
    destination: deps.destination.description,
    range: {from, to},
    dryRun: options.dryRun,
    plan,
    summary,
    outcomes: [],
    written: 0,
    failed: 0,
  }

  if (available.size === 0) {
    logger.warn(`Kubecost has no data yet for any candidate day (${from} to ${to}); nothing to export`)
    return result
  }

  logger.info(
    `Days available in Kubecost: ${available.size}, present at destination: ${summary.present + summary.recollect}, to collect: ${todo.length}`,
    {available: available.size, present: summary.present + summary.recollect, missing: todo.length},
  )
  if (todo.length === 0 || options.dryRun) {
    if (options.dryRun && todo.length > 0) logger.info(`Dry run: would collect ${todo.map((d) => d.date).join(', ')}`)
    return result
  }

  const workDir = await mkdtemp(join(tmpdir(), 'kubecost-cid-'))
  let engine: ParquetEngine | undefined
  try {
    for (const day of todo) {
      try {
        engine ??= await ParquetEngine.start({tempDirectory: join(workDir, 'duckdb')})
        const file = join(workDir, `${day.date}.parquet`)
        const {rows, totalCost} = await collectDay(day.date, file, options, deps, engine)
        await deps.destination.put(day.key, file)
        await rm(file, {force: true})
        logger.info(`Wrote ${rows} rows for ${day.date} to ${deps.destination.locate(day.key)}`, {day: day.date, rows, key: day.key})
        result.outcomes.push({date: day.date, status: 'written', key: day.key, rows, totalCost})
        result.written++
      } catch (error) {
        const message = describeCause(error)
        logger.error(`Failed to export ${day.date}: ${message}`, {day: day.date})
        result.outcomes.push({
          date: day.date,
          status: 'failed',
          key: day.key,
          error: message,
          code: error instanceof CidError ? error.code : 'UNEXPECTED',
        })
        result.failed++
        if (!(error instanceof CidError)) throw error
      }
    }
  } finally {
    engine?.close()
    await rm(workDir, {recursive: true, force: true})
  }

  return result
}

/** Collects one day from Kubecost into a Parquet file at `file`. */
async function collectDay(
  day: Day,
  file: string,
  options: ExportOptions,
  deps: ExportDeps,
  engine: ParquetEngine,
): Promise<{rows: number; totalCost: number}> {
  const nodes = new NodeIndex()
  await deps.kubecost.stream('assets', assetsParams(day), (entry) => {
    nodes.add(entry.key, entry.value)
  })

  const columns = contractColumns({labels: options.labels, annotations: options.annotations})
  const totalCostIndex = columns.findIndex((c) => c.name === 'totalCost')
  const builder = new RowBuilder({
    cluster: options.cluster,
    labelKeys: options.labels,
    annotationKeys: options.annotations,
    nodes,
    windowStartMs: dayStart(day).getTime(),
    windowEndMs: dayStart(addDays(day, 1)).getTime(),
  })
  const writer = await engine.newFile(columns)
  let totalCost = 0
  try {
    const response = await deps.kubecost.stream('allocation', allocationParams(day, options.aggregation), (entry) => {
      const row = builder.build(entry.key, entry.value)
      if (!row) return
      writer.append(row)
      totalCost += row[totalCostIndex] as number
    })
    if (writer.rows === 0) {
      throw new KubecostEmptyDayError(
        `Kubecost reported data for ${day} in the availability call, but GET ${response.url} returned no allocations`,
        {suggestions: ['Kubecost may still be rebuilding this day (e.g. after a restart); the next run will try it again.']},
      )
    }
  } catch (error) {
    await writer.discard()
    throw error
  }

  const rows = writer.rows
  await writer.finish(file)
  return {rows, totalCost}
}
