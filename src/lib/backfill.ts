import type {ClusterIdentity} from './cluster.js'
import {type Day, addDays, candidateDays, dayOf, daysBetween, newestCollectableDay} from './dates.js'
import {ConfigError, InvalidInputError} from './errors.js'
import type {Logger} from './log.js'
import type {Destination} from './destination/destination.js'
import type {KubecostClient} from './kubecost/client.js'
import type {Entry} from './kubecost/envelope-splitter.js'
import {availabilityParams} from './kubecost/requests.js'
import type {Layout} from './layout.js'
import {flag} from './settings.js'

export type DayStatus = 'present' | 'collect' | 'recollect' | 'unavailable'

export interface PlannedDay {
  date: Day
  status: DayStatus
  key: string
}

export interface DayRange {
  from: Day
  to: Day
}

export interface PlanInput {
  /** Candidate days, oldest first. */
  candidates: readonly Day[]
  /** Days Kubecost has data for. */
  available: ReadonlySet<Day>
  /** Days whose file exists at the destination. */
  present: ReadonlySet<Day>
  /** Present days in this range are collected again. */
  force?: DayRange
}

/**
 * The back-fill decision for every candidate day. Pure: the same inputs give the same plan.
 * A present day is never rewritten unless forced, and is only re-collected when Kubecost has it.
 */
export function planDays(input: PlanInput, keyOf: (day: Day) => string): PlannedDay[] {
  return input.candidates.map(date => {
    const available = input.available.has(date)
    let status: DayStatus
    if (input.present.has(date)) {
      const forced = input.force !== undefined && date >= input.force.from && date <= input.force.to
      status = forced && available ? 'recollect' : 'present'
    } else {
      status = available ? 'collect' : 'unavailable'
    }

    return {date, status, key: keyOf(date)}
  })
}

export function daysToCollect(plan: readonly PlannedDay[]): PlannedDay[] {
  return plan.filter(d => d.status === 'collect' || d.status === 'recollect')
}

export function summarizePlan(plan: readonly PlannedDay[]): Record<DayStatus, number> {
  const counts: Record<DayStatus, number> = {present: 0, collect: 0, recollect: 0, unavailable: 0}
  for (const day of plan) counts[day.status]++
  return counts
}

/**
 * Which candidate days Kubecost has: one Allocation call over the whole range (aggregate=cluster,
 * step=1d); a day is available when its set holds at least one allocation.
 */
export async function availableDays(
  client: KubecostClient,
  candidates: readonly Day[],
  clusters = new Set<string>(),
  /** Filled with each cluster's own days, for split mode (presence and availability per cluster). */
  byCluster?: Map<string, Set<Day>>,
): Promise<Set<Day>> {
  const available = new Set<Day>()
  const first = candidates[0]
  const last = candidates.at(-1)
  if (first === undefined || last === undefined) return available
  const wanted = new Set(candidates)
  const onEntry = (entry: Entry) => {
    const allocation = entry.value as {window?: {start?: unknown}} | null
    if (allocation === null || typeof allocation !== 'object' || Object.keys(allocation).length === 0) return
    const start = allocation.window?.start
    const ms = typeof start === 'string' ? Date.parse(start) : Number.NaN
    // Sets come one per step from the window's start; the allocation's own window says it best.
    const day = Number.isNaN(ms) ? addDays(first, entry.set) : dayOf(new Date(ms))
    if (wanted.has(day)) available.add(day)
    // Keyed by cluster name under aggregate=cluster: what Kubecost calls this cluster.
    if (entry.key && !entry.key.startsWith('__')) {
      clusters.add(entry.key)
      if (byCluster && wanted.has(day)) {
        let days = byCluster.get(entry.key)
        if (!days) byCluster.set(entry.key, (days = new Set()))
        days.add(day)
      }
    }
  }

  const onRestart = () => {
    available.clear()
    byCluster?.clear()
  }

  await client.stream('allocation', availabilityParams(first, last), {onEntry, onRestart})
  return available
}

/** Days whose file for this cluster exists at the destination (exact key match). */
export async function presentDays(destination: Destination, layout: Layout, signal?: AbortSignal): Promise<Set<Day>> {
  const present = new Set<Day>()
  for (const key of await destination.listKeys(layout.listingPrefix, {signal})) {
    const day = layout.dayOfKey(key)
    if (day) present.add(day)
  }

  return present
}

export interface RangeOptions {
  backfillDays: number
  /** Whether --backfill-days was given (not its default): then a --from that replaces it deserves a warning. */
  backfillDaysGiven?: boolean
  from?: Day
  to?: Day
}

/**
 * The candidate days, oldest first: the `backfillDays` days ending at today−3, or the explicit
 * `from`…`to` range (to defaults to, and is capped at, today−3: younger days are not reconciled yet).
 */
export function candidateRange(now: Date, options: RangeOptions): Day[] {
  const newest = newestCollectableDay(now)
  if (options.from === undefined) {
    if (options.to !== undefined) {
      throw new ConfigError(`${flag('to')} ${options.to} needs ${flag('from')}: give the first day of the range too`, {
        suggestions: [`For example ${flag('from')} 2026-01-01 ${flag('to')} 2026-01-07.`],
      })
    }

    return candidateDays(now, options.backfillDays)
  }

  if (options.from > newest) {
    throw InvalidInputError.of('from', options.from, `is after the newest collectable day ${newest} (today-3, UTC)`, {
      suggestions: ['Kubecost reconciles a day within about 48 hours; collect days up to today-3.'],
    })
  }

  const to = options.to === undefined || options.to > newest ? newest : options.to
  if (options.from > to) throw InvalidInputError.of('from', options.from, `is after ${flag('to')} ${to}`)
  return daysBetween(options.from, to)
}

export interface PlanOptions extends RangeOptions {
  cluster: ClusterIdentity
  layout: Layout
  now: Date
  /** Re-collect present days of the range. */
  force: boolean
}

/** The candidate days and their range, with a warning for a --from or --to that overrides or is capped. */
export function planRange(options: RangeOptions & {now: Date}, logger: Logger): {candidates: Day[]; range: DayRange} {
  const candidates = candidateRange(options.now, options)
  const range = {from: candidates[0] as Day, to: candidates.at(-1) as Day}
  if (options.from !== undefined && options.backfillDaysGiven) {
    logger.warn(
      `${flag('backfillDays')} ${options.backfillDays} is ignored: ${flag('from')} ${options.from} gives the range`,
    )
  }

  if (options.to !== undefined && options.to > range.to) {
    logger.warn(
      `${flag('to')} ${options.to} is after the newest collectable day; capped at ${range.to} (today-3, UTC: younger days are not reconciled yet)`,
    )
  }

  return {candidates, range}
}

export interface BackfillPlan {
  cluster: string
  destination: string
  range: DayRange
  /** Days Kubecost has, within the range. */
  available: number
  days: PlannedDay[]
  summary: Record<DayStatus, number>
}

/** The gap analysis that `export` acts on and `backfill-plan` shows: read-only. */
export async function planBackfill(
  options: PlanOptions,
  deps: {kubecost: KubecostClient; destination: Destination; logger: Logger; signal?: AbortSignal},
): Promise<BackfillPlan> {
  const {layout, cluster} = options
  const {candidates, range} = planRange(options, deps.logger)
  deps.logger.info(
    `Candidate days ${range.from} to ${range.to} (${candidates.length}) for cluster ${cluster.name}; destination ${deps.destination.locate(layout.listingPrefix)}`,
    {from: range.from, to: range.to},
  )
  const kubecostClusters = new Set<string>()
  const available = await availableDays(deps.kubecost, candidates, kubecostClusters)
  const others = [...kubecostClusters].filter(name => name !== cluster.name)
  if (kubecostClusters.size === 1 && !kubecostClusters.has(cluster.name)) {
    deps.logger.warn(
      `${deps.kubecost.product} calls this cluster ${others.map(n => JSON.stringify(n)).join(', ')}, the cluster ARN ${JSON.stringify(cluster.name)}; files are named and keyed by the ARN's name, and properties.cluster keeps ${deps.kubecost.product}'s`,
      {kubecostCluster: others.join(','), clusterName: cluster.name},
    )
  }

  if (kubecostClusters.size > 1) {
    deps.logger.warn(
      `${deps.kubecost.product} reports ${kubecostClusters.size} clusters (${[...kubecostClusters].map(n => JSON.stringify(n)).join(', ')}): every one's rows go into this cluster's file. For a federated Kubecost primary, use ${flag('splitByCluster')} with ${flag('clusterMap')} <kubecost cluster id>=<EKS cluster ARN> for each`,
      {kubecostClusters: kubecostClusters.size},
    )
  }

  const present = await presentDays(deps.destination, layout, deps.signal)
  const days = planDays({candidates, available, present, force: options.force ? range : undefined}, d => layout.key(d))
  return {
    cluster: cluster.name,
    destination: deps.destination.description,
    range,
    available: available.size,
    days,
    summary: summarizePlan(days),
  }
}
