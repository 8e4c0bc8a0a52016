/**
 * Objects under the table location that the exporter did not write: the crawler reads every object
 * there, and a foreign file (a CSV, a copy, a stray folder) makes it fail or mark partitions
 * incompatible (the original solution's users hit this).
 */
const EXPORTER_KEY =
  /^account_id=\d{12}\/region=[a-z0-9-]+\/year=\d{4}\/month=\d{2}\/\d{4}-\d{2}-\d{2}_[^/]+\.snappy\.parquet$/

/** Whether `key` is an exporter file under `prefix` (normalised, '' for none). */
export function isExporterKey(key: string, prefix: string): boolean {
  const base = prefix ? `${prefix}/` : ''
  return key.startsWith(base) && EXPORTER_KEY.test(key.slice(base.length))
}

export function foreignKeys(keys: readonly string[], prefix: string): string[] {
  return keys.filter(k => !isExporterKey(k, prefix))
}

/** The warning for objects under the table location that are not exporter files, with up to 5 examples. */
export function foreignWarning(location: string, foreign: readonly string[], truncated: boolean): string | undefined {
  if (foreign.length === 0) return undefined
  return `${location} holds ${foreign.length}${truncated ? '+' : ''} objects that are not exporter files; the crawler reads every object there and fails or skips partitions because of them. Move them elsewhere. Examples: ${foreign.slice(0, 5).join(', ')}`
}
