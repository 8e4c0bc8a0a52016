import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type BackfillPlan, type PlanOptions, daysToCollect, planBackfill} from './backfill.js'
import {type Day, addDays, dayStart} from './dates.js'
import type {Destination} from './destination/destination.js'
import {CidError, KubecostEmptyDayError, describeCause} from './errors.js'
import type {KubecostClient} from './kubecost/client.js'
import {type Aggregation, allocationParams, assetsParams} from './kubecost/requests.js'
import type {Logger} from './log.js'
import {NodeIndex} from './nodes.js'
import type {ParquetWriter} from './parquet/writer.js'
import {RowBuilder} from './rows.js'
import {contractColumns} from './schema.js'

export interface ExportOptions extends PlanOptions {
  aggregation: Aggregation
  labels: readonly string[]
  annotations: readonly string[]
  dryRun: boolean
}

export interface ExportDeps {
  kubecost: KubecostClient
  destination: Destination
  logger: Logger
}

export type DayOutcome =
  | {date: Day; status: 'written'; key: string; rows: number; totalCost: number}
  | {date: Day; status: 'failed'; key: string; error: string; code: string; suggestions: string[]}
  | {date: Day; status: 'skipped'; key: string; reason: 'present' | 'unavailable' | 'dry-run'}

export interface ExportResult extends BackfillPlan {
  dryRun: boolean
  outcomes: DayOutcome[]
  written: number
  failed: number
  skipped: number
}

/**
 * The export job: find the days Kubecost has and the destination lacks, collect each (oldest first)
 * into one Parquet file, publish it. One day's failure is reported and the others still run.
 */
export async function runExport(options: ExportOptions, deps: ExportDeps): Promise<ExportResult> {
  const {logger} = deps
  const plan = await planBackfill(options, deps)
  const todo = daysToCollect(plan.days)
  const result: ExportResult = {...plan, dryRun: options.dryRun, outcomes: [], written: 0, failed: 0, skipped: 0}
  const outcomes = new Map<Day, DayOutcome>()

  if (plan.available === 0) {
    logger.warn(`Kubecost has no data yet for any candidate day (${plan.range.from} to ${plan.range.to}); nothing to export`)
  } else {
    const present = plan.summary.present + plan.summary.recollect
    logger.info(
      `Days available in Kubecost: ${plan.available}, present at destination: ${present}, to collect: ${todo.length}` +
        (plan.summary.recollect > 0 ? ` (${plan.summary.recollect} forced re-collections)` : ''),
      {available: plan.available, present, missing: todo.length},
    )
  }

  if (todo.length > 0 && !options.dryRun) {
    const workDir = await mkdtemp(join(tmpdir(), 'kubecost-cid-'))
    // Loaded only when there is something to write; one writer for the run, its buffers serve every day.
    const {ParquetWriter: Writer} = await import('./parquet/writer.js')
    const parquet = new Writer(contractColumns({labels: options.labels, annotations: options.annotations}))
    try {
      for (const day of todo) {
        try {
          const file = join(workDir, `${day.date}.parquet`)
          const {rows, totalCost} = await collectDay(day.date, file, parquet, options, deps)
          // Only a complete file reaches the destination; a forced day's old object stays until then.
          await deps.destination.put(day.key, file)
          await rm(file, {force: true})
          logger.info(`Wrote ${rows} rows for ${day.date} to ${deps.destination.locate(day.key)}`, {day: day.date, rows, key: day.key})
          outcomes.set(day.date, {date: day.date, status: 'written', key: day.key, rows, totalCost})
        } catch (error) {
          const message = error instanceof CidError ? error.summary : describeCause(error)
          const suggestions = error instanceof CidError ? error.suggestions : []
          logger.error(`Failed to export ${day.date}: ${message}${suggestions.map((s) => ` Try: ${s}`).join('')}`, {day: day.date})
          outcomes.set(day.date, {
            date: day.date,
            status: 'failed',
            key: day.key,
            error: message,
            code: error instanceof CidError ? error.code : 'UNEXPECTED',
            suggestions,
          })
          if (!(error instanceof CidError)) throw error
        }
      }
    } finally {
      await rm(workDir, {recursive: true, force: true})
    }
  }

  for (const day of plan.days) {
    const outcome = outcomes.get(day.date) ?? {
      date: day.date,
      status: 'skipped' as const,
      key: day.key,
      reason: day.status === 'collect' || day.status === 'recollect' ? ('dry-run' as const) : day.status,
    }
    result.outcomes.push(outcome)
    result[outcome.status === 'written' ? 'written' : outcome.status === 'failed' ? 'failed' : 'skipped']++
  }

  return result
}

/** Collects one day from Kubecost into a Parquet file at `file`, streaming: rows are written as they arrive. */
async function collectDay(
  day: Day,
  file: string,
  writer: ParquetWriter,
  options: ExportOptions,
  deps: ExportDeps,
): Promise<{rows: number; totalCost: number}> {
  const nodes = new NodeIndex()
  await deps.kubecost.stream('assets', assetsParams(day), {
    onEntry: (entry) => nodes.add(entry.key, entry.value),
    onRestart: () => nodes.clear(),
  })

  const builder = new RowBuilder({
    cluster: options.cluster,
    labelKeys: options.labels,
    annotationKeys: options.annotations,
    nodes,
    windowStartMs: dayStart(day).getTime(),
    windowEndMs: dayStart(addDays(day, 1)).getTime(),
  })
  writer.open(file)
  let totalCost = 0
  try {
    const response = await deps.kubecost.stream('allocation', allocationParams(day, options.aggregation), {
      onEntry(entry) {
        if (builder.write(entry.key, entry.value, writer)) totalCost += totalCostOf(entry.value)
      },
      onRestart() {
        writer.reset()
        totalCost = 0
      },
    })
    if (writer.rows === 0) {
      throw new KubecostEmptyDayError(
        `Kubecost reported data for ${day} in the availability call, but GET ${response.url} returned no allocations`,
        {suggestions: ['Kubecost may still be rebuilding this day (e.g. after a restart); the next run will try it again.']},
      )
    }

    writer.finish()
  } catch (error) {
    writer.discard()
    throw error
  }

  return {rows: writer.rows, totalCost}
}

function totalCostOf(allocation: unknown): number {
  const value = (allocation as {totalCost?: unknown}).totalCost
  return typeof value === 'number' ? value : 0
}
