import {Flags} from '@oclif/core'

import {type ClusterIdentity, parseClusterArn} from './lib/cluster.js'
import {type Day, isDay} from './lib/dates.js'
import {ConfigError, InvalidInputError} from './lib/errors.js'
import {DEADLINE_READ_TIMEOUTS, DEFAULT_MAX_ENTRY_MIB, DEFAULT_MAX_RESPONSE_MIB} from './lib/kubecost/limits.js'
import {AGGREGATIONS, type Aggregation} from './lib/kubecost/requests.js'
import {normalizePrefix} from './lib/layout.js'
import {LOG_FORMATS, type LogFormat} from './lib/log.js'
import {
  type InputName,
  parseBucketName,
  parseChoice,
  parseHttpUrl,
  parseKeyList,
  parsePositiveInteger,
  parseRegion,
  parseRoleArn,
  parseSeconds,
  parseWholeNumber,
} from './lib/validate.js'

export const MAX_BACKFILL_DAYS = 400

/**
 * Flag definitions shared by the commands. Each declares the old exporter's environment variable as
 * its fallback (so the CronJob is configured by env vars alone) and validates once, naming the flag,
 * the variable and the bad value.
 */
/** Puts flags under one heading in --help. */
function inGroup<T extends Record<string, object>>(helpGroup: string, flags: T): T {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, {...flag, helpGroup}])) as T
}

/** `env` and `parse` for a flag whose value is validated by `parse`, naming the flag and its variable. */
export function input<T>(name: InputName, parse: (input: string, name: InputName) => T) {
  return {env: name.env, parse: async (value: string) => parse(value, name)}
}

const seconds = (flag: string, env: string, defaultSeconds: number, description: string) =>
  Flags.custom<number>({
    ...input({flag, env}, parseSeconds),
    description: `${description}, in seconds`,
    default: defaultSeconds * 1000,
    defaultHelp: async () => String(defaultSeconds),
  })()

/** A call's total deadline; without one, the client allows DEADLINE_READ_TIMEOUTS read timeouts. */
const deadline = (api: string, env: string, name: string, defaultReadSeconds: number) =>
  Flags.custom<number>({
    ...input({flag: `${api}-deadline`, env}, parseSeconds),
    description: `total time one ${name} API call may take, retries and back-off included, in seconds`,
    defaultHelp: async () => `${DEADLINE_READ_TIMEOUTS} × --${api}-read-timeout (${DEADLINE_READ_TIMEOUTS * defaultReadSeconds})`,
  })()

/** Validated, normalised comma-separated keys; `splitKeys` turns the value into the list. */
const keyList = (flag: string, env: string, description: string) =>
  Flags.string({
    ...input({flag, env}, (value, name) => parseKeyList(value, name).join(',')),
    description,
    default: '',
  })

export function splitKeys(value: string): string[] {
  return value === '' ? [] : value.split(',')
}

export const sourceFlags = inGroup('KUBECOST', {
  'cluster-arn': Flags.custom<ClusterIdentity>({
    ...input({flag: 'cluster-arn', env: 'CLUSTER_ID'}, (value, n) => parseClusterArn(value, n.flag, n.env)),
    description: 'EKS cluster ARN (any partition and region); gives the cluster name, account and region',
  })(),
  'kubecost-url': Flags.string({
    ...input({flag: 'kubecost-url', env: 'KUBECOST_API_ENDPOINT'}, parseHttpUrl),
    description: 'Kubecost cost-analyzer API base URL (http or https)',
    default: 'http://kubecost-cost-analyzer.kubecost:9090',
  }),
  'backfill-days': Flags.custom<number>({
    // More than a year and a month is beyond any Kubecost retention, and a typo's worth of requests.
    ...input({flag: 'backfill-days', env: 'BACKFILL_PERIOD_DAYS'}, (value, n) => parseWholeNumber(value, n, {min: 1, max: MAX_BACKFILL_DAYS})),
    description: `number of candidate days, ending at today-3 (UTC); 1 to ${MAX_BACKFILL_DAYS}`,
    default: 15,
  })(),
  aggregation: Flags.custom<Aggregation>({
    ...input({flag: 'aggregation', env: 'AGGREGATION'}, (value, n) => parseChoice(value, AGGREGATIONS, n)),
    description: `aggregation level of the rows: ${AGGREGATIONS.join(', ')}`,
    default: 'container',
  })(),
  'connect-timeout': seconds('connect-timeout', 'CONNECTION_TIMEOUT', 10, 'timeout for establishing the connection to Kubecost'),
  'allocation-read-timeout': seconds(
    'allocation-read-timeout',
    'KUBECOST_ALLOCATION_API_READ_TIMEOUT',
    60,
    'timeout waiting for (and between parts of) the Allocation API response',
  ),
  'assets-read-timeout': seconds(
    'assets-read-timeout',
    'KUBECOST_ASSETS_API_READ_TIMEOUT',
    30,
    'timeout waiting for (and between parts of) the Assets API response',
  ),
  'allocation-deadline': deadline('allocation', 'KUBECOST_ALLOCATION_API_DEADLINE', 'Allocation', 60),
  'assets-deadline': deadline('assets', 'KUBECOST_ASSETS_API_DEADLINE', 'Assets', 30),
  'max-entry-mb': Flags.custom<number>({
    ...input({flag: 'max-entry-mb', env: 'KUBECOST_API_MAX_ENTRY_MB'}, parsePositiveInteger),
    description: 'largest single allocation or asset accepted in a Kubecost response, in MiB',
    default: DEFAULT_MAX_ENTRY_MIB,
  })(),
  'max-response-mb': Flags.custom<number>({
    ...input({flag: 'max-response-mb', env: 'KUBECOST_API_MAX_RESPONSE_MB'}, parsePositiveInteger),
    description: 'largest Kubecost response accepted (one day\'s allocations), in MiB',
    default: DEFAULT_MAX_RESPONSE_MIB,
  })(),
  'tls-verify': Flags.boolean({
    env: 'TLS_VERIFY',
    allowNo: true,
    default: true,
    description: 'verify Kubecost\'s TLS certificate (--no-tls-verify only for testing; env accepts true/false/yes/no/y/n/1/0)',
  }),
  'ca-cert-file': Flags.string({
    env: 'KUBECOST_CA_CERTIFICATE_FILE',
    description: 'PEM bundle of the certificate authority to trust for Kubecost',
  }),
  'ca-cert-secret': Flags.string({
    env: 'KUBECOST_CA_CERTIFICATE_SECRET_NAME',
    description: 'Secrets Manager secret (name or ARN) whose SecretString is the PEM bundle to trust for Kubecost',
  }),
  'ca-cert-secret-region': Flags.string({
    ...input({flag: 'ca-cert-secret-region', env: 'KUBECOST_CA_CERTIFICATE_SECRET_REGION'}, parseRegion),
    description: 'region of --ca-cert-secret (default: the cluster\'s region)',
  }),
  retries: Flags.custom<number>({
    ...input({flag: 'retries', env: 'KUBECOST_API_RETRIES'}, (value, n) => parseWholeNumber(value, n, {min: 0, max: 20})),
    description: 'retries of a Kubecost call after a transient failure (connection reset, connect timeout, 429, 499, 502, 503, 504); 0 for no retries',
    default: 3,
  })(),
  'retry-delay': Flags.custom<number>({
    ...input({flag: 'retry-delay', env: 'KUBECOST_API_RETRY_DELAY'}, parseSeconds),
    description: 'first retry back-off in seconds; doubles with each retry, with jitter',
    default: 2000,
    defaultHelp: async () => '2',
  })(),
  labels: keyList('labels', 'LABELS', 'comma-separated Kubernetes label keys to export as columns, e.g. "app, app.kubernetes.io/name"'),
  annotations: keyList('annotations', 'ANNOTATIONS', 'comma-separated Kubernetes annotation keys to export as columns'),
  // Lets tests and operators fix "today"; all windows are computed from it.
  now: Flags.custom<Date>({
    hidden: true,
    parse: async (value) => {
      const date = new Date(value)
      if (Number.isNaN(date.getTime())) throw new InvalidInputError('now', undefined, value, 'not an ISO 8601 date-time')
      return date
    },
  })(),
})

export const awsFlags = inGroup('AWS', {
  'parent-role-arn': Flags.string({
    ...input({flag: 'parent-role-arn', env: 'IRSA_PARENT_IAM_ROLE_ARN'}, parseRoleArn),
    description: 'role chaining: assume this role with the pod\'s credentials for S3 and Secrets Manager (session kubecost-s3-exporter)',
  }),
})

export const destinationFlags = inGroup('DESTINATION', {
  bucket: Flags.string({
    ...input({flag: 'bucket', env: 'S3_BUCKET_NAME'}, parseBucketName),
    description: 'S3 bucket to upload to (required unless --output-dir is given)',
  }),
  prefix: Flags.string({
    ...input({flag: 'prefix', env: 'S3_PREFIX'}, (value, n) => normalizePrefix(value, n.flag, n.env)),
    description: 'key prefix in front of the account_id=/region=/... layout',
    default: '',
  }),
  'output-dir': Flags.string({
    env: 'OUTPUT_DIR',
    description: 'write to this local directory (same layout) instead of S3',
  }),
  's3-endpoint': Flags.string({
    ...input({flag: 's3-endpoint', env: 'S3_ENDPOINT_URL'}, parseHttpUrl),
    description: 'S3-compatible endpoint (MinIO, Ceph): path-style addressing, checksums only when required',
  }),
  's3-timeout': seconds(
    's3-timeout',
    'S3_REQUEST_TIMEOUT',
    120,
    'how long an S3 attempt may wait to connect or without progress (an unanswered request, a stalled upload) before it fails and is retried',
  ),
})

export const logFlags = inGroup('OUTPUT', {
  'log-format': Flags.custom<LogFormat>({
    ...input({flag: 'log-format', env: 'LOG_FORMAT'}, (value, n) => parseChoice(value, LOG_FORMATS, n)),
    description: 'log line format on stderr: text or json (one object per line)',
    default: 'text',
  })(),
})

const day = (flag: string, description: string) =>
  Flags.custom({
    ...input({flag}, (value, n) => {
      const trimmed = value.trim()
      if (!isDay(trimmed)) throw new InvalidInputError(n.flag, n.env, value, 'not a date; use YYYY-MM-DD (UTC)')
      return trimmed
    }),
    description,
  })()

export const rangeFlags = inGroup('DAYS', {
  from: day('from', 'first day of the candidate range (YYYY-MM-DD, UTC); replaces --backfill-days'),
  to: day('to', 'last day of the candidate range (YYYY-MM-DD, UTC; default and latest: today-3)'),
  force: Flags.boolean({
    description: 're-collect present days of the --from/--to range (e.g. after Kubecost reconciled them with the bill)',
    default: false,
  }),
})

/**
 * Where a flag's value came from: the command line (`--name value`, `--name=value`) or its
 * environment variable; undefined when neither (a default). oclif itself does not say.
 */
export function flagSource(argv: readonly string[], flag: string, env: string | undefined, environment: Readonly<Record<string, string | undefined>>): 'flag' | 'env' | undefined {
  if (argv.some((arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`))) return 'flag'
  return env !== undefined && environment[env] !== undefined && environment[env] !== '' ? 'env' : undefined
}

/** --force re-collects only a range the user names: forcing all candidate days by accident helps nobody. */
export function checkForce(flags: {force: boolean; from?: Day}): void {
  if (flags.force && !flags.from) {
    throw new ConfigError('--force needs --from: name the days to re-collect', {
      suggestions: ['For example --force --from 2026-01-01 --to 2026-01-07.'],
    })
  }
}

export const limitFlags = inGroup('LIMITS', {
  'run-deadline': Flags.custom<number>({
    ...input({flag: 'run-deadline', env: 'RUN_DEADLINE'}, parseSeconds),
    description:
      'stop collecting after this many seconds: the day in progress and the days left fail (the next run collects them) [default: none; the CronJob\'s activeDeadlineSeconds still applies]',
  })(),
  'max-rows-per-day': Flags.custom<number>({
    ...input({flag: 'max-rows-per-day', env: 'MAX_ROWS_PER_DAY'}, parsePositiveInteger),
    description: 'fail a day whose answer holds more allocations than this (a bound on the scratch disk a broken answer can fill)',
    default: 2_000_000,
  })(),
})
