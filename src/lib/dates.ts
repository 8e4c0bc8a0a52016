/** UTC calendar days as `YYYY-MM-DD` strings: the unit of collection, naming and planning. */

export type Day = string

const DAY_MS = 86_400_000
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/

export function isDay(value: string): boolean {
  const m = DAY_RE.exec(value)
  if (!m) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)
}

export function dayOf(date: Date): Day {
  return date.toISOString().slice(0, 10)
}

export function dayStart(day: Day): Date {
  return new Date(`${day}T00:00:00Z`)
}

export function addDays(day: Day, n: number): Day {
  return dayOf(new Date(dayStart(day).getTime() + n * DAY_MS))
}

/** Inclusive range of days, oldest first. */
export function daysBetween(first: Day, last: Day): Day[] {
  const days: Day[] = []
  for (let d = first; d <= last; d = addDays(d, 1)) days.push(d)
  return days
}

/** RFC 3339 with a `Z`, second precision, as Kubecost expects in `window=`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Kubecost `window` parameter covering `[first 00:00Z, last+1 00:00Z)`. */
export function windowParam(first: Day, last: Day = first): string {
  return `${rfc3339(dayStart(first))},${rfc3339(dayStart(addDays(last, 1)))}`
}

/**
 * The newest day that may be collected: today−3, so that Kubecost has reconciled it
 * (the window from "72 hours ago 00:00" to "48 hours ago 00:00").
 */
export function newestCollectableDay(now: Date): Day {
  return addDays(dayOf(now), -3)
}

/** The N candidate days ending at the newest collectable day, oldest first. */
export function candidateDays(now: Date, backfillDays: number): Day[] {
  const last = newestCollectableDay(now)
  return daysBetween(addDays(last, -(backfillDays - 1)), last)
}
