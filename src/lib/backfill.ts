import {type Day, addDays, dayOf} from './dates.js'
import type {Destination} from './destination/destination.js'
import type {KubecostClient} from './kubecost/client.js'
import {availabilityParams} from './kubecost/requests.js'
import type {Layout} from './layout.js'

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
  return input.candidates.map((date) => {
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
  return plan.filter((d) => d.status === 'collect' || d.status === 'recollect')
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
export async function availableDays(client: KubecostClient, candidates: readonly Day[]): Promise<Set<Day>> {
  const available = new Set<Day>()
  const first = candidates[0]
  const last = candidates.at(-1)
  if (first === undefined || last === undefined) return available
  const wanted = new Set(candidates)
  await client.stream('allocation', availabilityParams(first, last), (entry) => {
    const allocation = entry.value as {window?: {start?: unknown}} | null
    if (allocation === null || typeof allocation !== 'object' || Object.keys(allocation).length === 0) return
    const start = allocation.window?.start
    const ms = typeof start === 'string' ? Date.parse(start) : Number.NaN
    // Sets come one per step from the window's start; the allocation's own window says it best.
    const day = Number.isNaN(ms) ? addDays(first, entry.set) : dayOf(new Date(ms))
    if (wanted.has(day)) available.add(day)
  })
  return available
}

/** Days whose file for this cluster exists at the destination (exact key match). */
export async function presentDays(destination: Destination, layout: Layout): Promise<Set<Day>> {
  const present = new Set<Day>()
  for (const key of await destination.listKeys(layout.listingPrefix)) {
    const day = layout.dayOfKey(key)
    if (day) present.add(day)
  }

  return present
}
