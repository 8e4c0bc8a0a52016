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
