/** The two-day export run that the resilience and termination tests both drive, defined once. */

export const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
export const NOW = '2026-03-05T10:30:00Z'
export const DAYS = ['2026-03-01', '2026-03-02']
export const keyOf = (day: string) =>
  `account_id=111122223333/region=us-east-1/year=2026/month=03/${day}_prod.snappy.parquet`

/** `export` of DAYS into `out`, with fast retries so a fault costs milliseconds, not seconds. */
export const exportArgs = (url: string, out: string, extra: string[] = []) => [
  'export',
  '--cluster-arn',
  ARN,
  '--output-dir',
  out,
  '--kubecost-url',
  url,
  '--backfill-days',
  '2',
  '--now',
  NOW,
  '--retries',
  '2',
  '--retry-delay',
  '0.01',
  ...extra,
]
