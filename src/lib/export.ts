import {rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type BackfillPlan, type PlanOptions, type PlannedDay, daysToCollect, planBackfill} from './backfill.js'
import {type Day, addDays, dayStart} from './dates.js'
import type {Destination} from './destination/destination.js'
import {CidError, KubecostEmptyDayError, KubecostResponseError, PartialFailureError, RunAbortedError} from './errors.js'
import type {KubecostClient} from './kubecost/client.js'
import {type Aggregation, allocationParams, assetsParams} from './kubecost/requests.js'
import type {Logger} from './log.js'
import {NodeIndex} from './nodes.js'
import {BuiltRow} from './parse/batch.js'
import type {ParsePool} from './parse/pool.js'
import type {ParquetWriter} from './parquet/writer.js'
import {NODE_LABEL_KEYS, RowBuilder, totalCostOf} from './rows.js'
import {RepeatedKeys} from './repeated-keys.js'
import {contractColumns} from './schema.js'
import {createWorkDir} from './work-dir.js'
import {flag, setting} from './settings.js'

export interface ExportOptions extends PlanOptions {
  aggregation: Aggregation
  labels: readonly string[]
  annotations: readonly string[]
  dryRun: boolean
  /** A day with more rows than this fails: a bound on the scratch disk an endless or broken answer can fill. */
  maxRowsPerDay: number
  /** Where the work directory is made (the system's temporary directory by default). */
  workRoot?: string
  /** Threads that parse allocation bodies besides the main one (0: the main thread parses). */
  parseThreads?: number
}

export interface ExportDeps {
  kubecost: KubecostClient
  destination: Destination
  logger: Logger
  /**
   * Aborts the run: with a RunAbortedError (SIGTERM/SIGINT) the current day is dropped and the run
   * stops; with a RunDeadlineError the current and remaining days fail and the run ends normally.
   */
  signal?: AbortSignal
  /** Parse threads to use instead of the ones `parseThreads` asks for (tests); the caller closes them. */
  parsePool?: ParsePool
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
    logger.warn(
      `${deps.kubecost.product} has no data yet for any candidate day (${plan.range.from} to ${plan.range.to}); nothing to export`,
    )
  } else {
    const present = plan.summary.present + plan.summary.recollect
    logger.info(
      `Days available in ${deps.kubecost.product}: ${plan.available}, present at destination: ${present}, to collect: ${todo.length}` +
        (plan.summary.recollect > 0 ? ` (${plan.summary.recollect} forced re-collections)` : ''),
      {available: plan.available, present, missing: todo.length},
    )
  }

  if (todo.length > 0 && !options.dryRun) {
    const workDir = await createWorkDir(options.workRoot ?? tmpdir(), logger)

    // Loaded only when there is something to write; one writer for the run, its buffers serve every day.
    const {ParquetWriter: Writer} = await import('./parquet/writer.js')
    const parquet = new Writer(contractColumns({labels: options.labels, annotations: options.annotations}))
    const own =
      !deps.parsePool && options.parseThreads
        ? new (await import('./parse/pool.js')).ParsePool(options.parseThreads)
        : undefined
    const pool = deps.parsePool ?? own
    try {
      for (const day of todo) {
        const file = join(workDir, `${day.date}.parquet`)
        outcomes.set(day.date, await exportDay(day, file, {writer: parquet, pool}, options, deps))
      }
    } finally {
      await own?.close()
      await rm(workDir, {recursive: true, force: true})
    }
  }

  for (const day of plan.days) {
    const outcome = outcomes.get(day.date) ?? {
      date: day.date,
      status: 'skipped' as const,
      key: day.key,
      reason: skipReason(day),
    }
    result.outcomes.push(outcome)
    tally(result, outcome)
  }

  return result
}

/** Why a planned day was not collected: present, unavailable, or one to collect in a dry run. */
export function skipReason(day: PlannedDay): 'present' | 'unavailable' | 'dry-run' {
  return day.status === 'collect' || day.status === 'recollect' ? 'dry-run' : day.status
}

/** Counts an outcome into its run's totals. */
export function tally(totals: {written: number; failed: number; skipped: number}, outcome: {status: string}): void {
  totals[outcome.status === 'written' ? 'written' : outcome.status === 'failed' ? 'failed' : 'skipped']++
}

/** The run's termination, said of the day it stopped in. */
export function stoppedDuring(error: RunAbortedError, day: Day): RunAbortedError {
  return new RunAbortedError(error.signal, {
    detail: `stopped while collecting ${day}; nothing was published for it, and the next run collects it`,
  })
}

/**
 * A failed day's suggestions. A forced day keeps its old file, and a plain run skips a present day:
 * say so, and how to try again. `what` names the day (and, split, its cluster).
 */
export function retrySuggestions(error: CidError, day: PlannedDay, destination: Destination, what: string): string[] {
  if (day.status !== 'recollect') return error.suggestions
  return [
    ...error.suggestions,
    `The existing file at ${destination.locate(day.key)} was kept. The next plain run will not collect ${what} again (it is present); retry with ${flag('force')} ${flag('from')} ${day.date} ${flag('to')} ${day.date}.`,
  ]
}

/** Collects, writes and publishes one day; a failure is the day's outcome, except a termination, which stops the run. */
async function exportDay(
  day: PlannedDay,
  file: string,
  tools: DayTools,
  options: ExportOptions,
  deps: ExportDeps,
): Promise<DayOutcome> {
  const {logger, signal} = deps
  try {
    signal?.throwIfAborted()
    const {rows, totalCost} = await collectDay(day.date, file, tools, options, deps)
    // Only a complete file reaches the destination; a forced day's old object stays until then.
    await deps.destination.put(day.key, file, {signal})
    await rm(file, {force: true})
    logger.info(`Wrote ${rows} rows for ${day.date} to ${deps.destination.locate(day.key)}`, {
      day: day.date,
      rows,
      key: day.key,
    })
    return {date: day.date, status: 'written', key: day.key, rows, totalCost}
  } catch (caught) {
    await rm(file, {force: true})
    // Whatever a component made of an abort, the run's reason is what is reported.
    const error: unknown = signal?.aborted ? signal.reason : caught
    if (error instanceof RunAbortedError) throw stoppedDuring(error, day.date)

    if (!(error instanceof CidError)) throw error
    const suggestions = retrySuggestions(error, day, deps.destination, day.date)
    logger.error(`Failed to export ${day.date}: ${error.summary}${suggestions.map(s => ` Try: ${s}`).join('')}`, {
      day: day.date,
      code: error.code,
    })
    return {date: day.date, status: 'failed', key: day.key, error: error.summary, code: error.code, suggestions}
  }
}

/**
 * Node index entries (two a node) at most that are copied to the parse threads: ~1 KB each. A larger
 * cluster (beyond EKS's usual 5,000 nodes) parses its days on the main thread, in less memory.
 */
const MAX_COPIED_NODES = 20_000

/** What every day of a run reuses: the Parquet writer, and the parse threads if there are any. */
interface DayTools {
  writer: ParquetWriter
  pool: ParsePool | undefined
}

/**
 * Collects one day from Kubecost into a Parquet file at `file`, streaming: rows are written as they
 * arrive, built here or on the pool's threads (which the entries tell apart: a BuiltRow was built there).
 */
async function collectDay(
  day: Day,
  file: string,
  {writer, pool: threads}: DayTools,
  options: ExportOptions,
  deps: ExportDeps,
): Promise<{rows: number; totalCost: number}> {
  const nodes = new NodeIndex({labelKeys: NODE_LABEL_KEYS})
  await deps.kubecost.stream('assets', assetsParams(day), {
    onEntry: entry => nodes.add(entry.key, entry.value),
    onRestart: () => nodes.clear(),
  })

  const context = {
    cluster: options.cluster,
    product: deps.kubecost.product,
    labelKeys: options.labels,
    annotationKeys: options.annotations,
    windowStartMs: dayStart(day).getTime(),
    windowEndMs: dayStart(addDays(day, 1)).getTime(),
  }
  const builder = new RowBuilder({...context, nodes})
  // A pool that failed on an earlier day is not used again, and a node index too large to copy to
  // the threads stays here: this day is parsed on the main thread.
  const pool = threads?.failed || nodes.size > MAX_COPIED_NODES ? undefined : threads
  pool?.context({...context, nodes: nodes.data()}, builder)
  writer.open(file)
  let totalCost = 0
  const repeated = new RepeatedKeys(deps.kubecost.product, day, deps.logger)
  try {
    const response = await deps.kubecost.stream('allocation', allocationParams(day, options.aggregation), {
      onEntry(entry) {
        deps.signal?.throwIfAborted()
        if (!repeated.first(entry)) return
        const {value} = entry
        if (value instanceof BuiltRow) {
          if (!value.writeTo(writer)) return
          totalCost += value.totalCost
        } else {
          if (!builder.write(entry.key, value, writer)) return
          totalCost += totalCostOf(value)
        }

        if (writer.rows > options.maxRowsPerDay) {
          throw tooManyRows(`${deps.kubecost.product} returned`, options.maxRowsPerDay, `for ${day}; the day`, 'day')
        }
      },
      ...(pool ? {reader: limits => pool.reader(limits)} : {}),
      onRestart() {
        writer.reset()
        totalCost = 0
        repeated.reset()
      },
    })
    repeated.finish()
    if (writer.rows === 0) {
      throw new KubecostEmptyDayError(
        `${deps.kubecost.product} reported data for ${day} in the availability call, but GET ${response.url} returned no allocations`,
        {
          suggestions: [
            `${deps.kubecost.product} may still be rebuilding this day (e.g. after a restart); the next run will try it again.`,
          ],
        },
      )
    }

    writer.finish()
  } catch (error) {
    writer.discard()
    throw error
  }

  return {rows: writer.rows, totalCost}
}

/**
 * A day (or, split, a cluster-day) past --max-rows-per-day: `returned` says who returned the rows,
 * `what` which rows and which file (`for <day>; the day`).
 */
export function tooManyRows(
  returned: string,
  max: number,
  what: string,
  unit: 'day' | 'cluster-day',
): KubecostResponseError {
  return new KubecostResponseError(`${returned} more than ${max} allocations ${what} is not written`, {
    suggestions: [
      `A ${unit} this large is more likely a broken or hostile answer than a real cluster; if it is real, raise ${setting('maxRowsPerDay')} and the /tmp emptyDir sizeLimit to match.`,
    ],
  })
}

/** The error a run ends with when some of its days (or, split, cluster-days) failed; each was reported already. */
export function partialFailure(
  result: {outcomes: ReadonlyArray<{status: string; date: string; cluster?: string}>; failed: number; written: number},
  unit: 'days' | 'cluster-days',
): PartialFailureError {
  const failed = result.outcomes
    .filter(o => o.status === 'failed')
    .map(o => (o.cluster ? `${o.date} ${o.cluster}` : o.date))
  return new PartialFailureError(
    `${failed.length} of ${result.failed + result.written} ${unit} failed: ${failed.join(', ')}`,
    {suggestions: ['The failed days are collected again by the next run; the errors above give each cause.']},
  )
}
