import type {ClusterIdentity} from './cluster.js'
import {type Day, isDay} from './dates.js'
import {type InputSource, invalidInput} from './errors.js'
import {escapeControl} from './sanitize.js'

/**
 * The Hive-style layout shared by S3 and local destinations:
 * [<prefix>/]account_id=<acct>/region=<region>/year=<YYYY>/month=<MM>/<YYYY-MM-DD>_<cluster>.snappy.parquet
 */
export class Layout {
  readonly prefix: string

  constructor(
    readonly cluster: ClusterIdentity,
    prefix = '',
  ) {
    this.prefix = normalizePrefix(prefix)
  }

  /** Everything of this account and region lives under here; what `present` lists. */
  get listingPrefix(): string {
    return `${this.prefix ? `${this.prefix}/` : ''}account_id=${this.cluster.accountId}/region=${this.cluster.region}/`
  }

  fileName(day: Day): string {
    return `${day}_${this.cluster.name}.snappy.parquet`
  }

  key(day: Day): string {
    return `${this.listingPrefix}year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/${this.fileName(day)}`
  }

  /** Every day's key, with placeholders for the date: what two clusters must not share. */
  get keyPattern(): string {
    return `${this.listingPrefix}year=<YYYY>/month=<MM>/<YYYY-MM-DD>_${this.cluster.name}.snappy.parquet`
  }

  /**
   * The day a listed key holds for this cluster, or undefined. Only this layout's exact key counts:
   * `2024-05-01_prod-eu.snappy.parquet` is not a `prod` file, and neither is a copy in the wrong folder.
   */
  dayOfKey(key: string): Day | undefined {
    const base = key.slice(key.lastIndexOf('/') + 1)
    const m = /^(\d{4}-\d{2}-\d{2})_(.+)\.snappy\.parquet$/.exec(base)
    if (!m || m[2] !== this.cluster.name) return undefined
    const day = m[1] as string
    return isDay(day) && key === this.key(day) ? day : undefined
  }
}

// C0 (newline, tab, ESC...), DEL and C1.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

export function normalizePrefix(prefix: string, source: InputSource = 'prefix'): string {
  const trimmed = prefix.trim().replace(/^\/+/, '').replace(/\/+$/, '')
  if (trimmed === '') return ''
  // S3 would store them, but every key, log line and Glue location built on the prefix would carry them.
  if (CONTROL.test(trimmed)) {
    throw invalidInput(source, escapeControl(prefix), 'a key prefix cannot contain control characters', {
      suggestions: ['Use a plain path such as "kubecost" or "exports/kubecost".'],
    })
  }

  const segments = trimmed.split('/')
  if (segments.some(s => s === '' || s === '.' || s === '..')) {
    throw invalidInput(source, prefix, 'a key prefix cannot contain empty, "." or ".." segments', {
      suggestions: ['Use a plain path such as "kubecost" or "exports/kubecost".'],
    })
  }

  return trimmed
}
