/** Kubecost: where it is, how long to wait, what to collect. */
import {Flags} from '@oclif/core'

import {type ClusterIdentity, parseClusterArn} from '../lib/cluster.js'
import {InvalidInputError} from '../lib/errors.js'
import {DEADLINE_READ_TIMEOUTS, DEFAULT_MAX_ENTRY_MIB, DEFAULT_MAX_RESPONSE_MIB} from '../lib/kubecost/limits.js'
import {AGGREGATIONS, type Aggregation} from '../lib/kubecost/requests.js'
import {KUBECOST, OPENCOST, SOURCES, type SourceName} from '../lib/kubecost/source.js'
import type {KeyKind} from '../lib/schema.js'
import {
  parseBoolean,
  parseChoice,
  parseHttpUrl,
  parseKeyList,
  parsePositiveInteger,
  parseRegion,
  parseSeconds,
  parseWholeNumber,
} from '../lib/validate.js'
import {inGroup, input, seconds} from './common.js'

/** More than a year and a month is beyond any Kubecost retention, and a typo's worth of requests. */
export const MAX_BACKFILL_DAYS = 400

/** A call's total deadline; without one, the client allows DEADLINE_READ_TIMEOUTS read timeouts. */
const deadline = (api: string, env: string, name: string, defaultReadSeconds: number) =>
  Flags.custom<number>({
    ...input({flag: `${api}-deadline`, env}, parseSeconds),
    description: `total time one ${name} API call may take, retries and back-off included, in seconds`,
    defaultHelp: async () =>
      `${DEADLINE_READ_TIMEOUTS} × --${api}-read-timeout (${DEADLINE_READ_TIMEOUTS * defaultReadSeconds})`,
  })()

/** Comma-separated Kubernetes keys, validated and parsed once into the list. */
export const keyList = (flag: KeyKind, env: string, description: string) =>
  // No default: oclif types an array default as a repeatable flag's; absent means no keys.
  Flags.custom<string[]>({...input({flag, env}, (value, n) => parseKeyList(value, n, flag)), description})()

export const sourceFlags = inGroup('KUBECOST', {
  'cluster-arn': Flags.custom<ClusterIdentity>({
    ...input({flag: 'cluster-arn', env: 'CLUSTER_ID'}, (value, n) => parseClusterArn(value, n)),
    description: 'EKS cluster ARN (any partition and region); gives the cluster name, account and region',
  })(),
  source: Flags.custom<SourceName>({
    ...input({flag: 'source', env: 'COST_SOURCE'}, (value, n) => parseChoice(value, SOURCES, n)),
    description: `where the cost data comes from: ${SOURCES.join(' or ')} (OpenCost's /allocation/compute and /assets)`,
    default: 'kubecost',
  })(),
  // No default of its own: it depends on --source (see kubecostUrl).
  'kubecost-url': Flags.string({
    ...input({flag: 'kubecost-url', env: 'KUBECOST_API_ENDPOINT'}, (value, n) =>
      parseHttpUrl(value, n, `${KUBECOST.defaultUrl} (Kubecost) or ${OPENCOST.defaultUrl} (OpenCost)`),
    ),
    description: 'Kubecost cost-analyzer (or OpenCost) API base URL (http or https)',
    defaultHelp: async () => `${KUBECOST.defaultUrl}; with --source opencost, ${OPENCOST.defaultUrl}`,
  }),
  'backfill-days': Flags.custom<number>({
    // More than a year and a month is beyond any Kubecost retention, and a typo's worth of requests.
    ...input({flag: 'backfill-days', env: 'BACKFILL_PERIOD_DAYS'}, (value, n) =>
      parseWholeNumber(value, n, {min: 1, max: MAX_BACKFILL_DAYS}),
    ),
    description: `number of candidate days, ending at today-3 (UTC); 1 to ${MAX_BACKFILL_DAYS}`,
    default: 15,
  })(),
  aggregation: Flags.custom<Aggregation>({
    ...input({flag: 'aggregation', env: 'AGGREGATION'}, (value, n) => parseChoice(value, AGGREGATIONS, n)),
    description: `aggregation level of the rows: ${AGGREGATIONS.join(', ')}`,
    default: 'container',
  })(),
  'connect-timeout': seconds(
    'connect-timeout',
    'CONNECTION_TIMEOUT',
    10,
    'timeout for establishing the connection to Kubecost',
  ),
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
    description: "largest Kubecost response accepted (one day's allocations), in MiB",
    default: DEFAULT_MAX_RESPONSE_MIB,
  })(),
  'tls-verify': Flags.boolean({
    env: 'TLS_VERIFY',
    allowNo: true,
    default: true,
    description:
      "verify Kubecost's TLS certificate (--no-tls-verify only for testing; env accepts true/false/yes/no/y/n/1/0)",
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
    description: "region of --ca-cert-secret (default: the cluster's region)",
  }),
  retries: Flags.custom<number>({
    ...input({flag: 'retries', env: 'KUBECOST_API_RETRIES'}, (value, n) =>
      parseWholeNumber(value, n, {min: 0, max: 20}),
    ),
    description:
      'retries of a Kubecost call after a transient failure (connection reset, connect timeout, 429, 499, 502, 503, 504); 0 for no retries',
    default: 3,
  })(),
  'retry-delay': Flags.custom<number>({
    ...input({flag: 'retry-delay', env: 'KUBECOST_API_RETRY_DELAY'}, parseSeconds),
    description: 'first retry back-off in seconds; doubles with each retry, with jitter',
    default: 2000,
    defaultHelp: async () => '2',
  })(),
  labels: keyList(
    'labels',
    'LABELS',
    'comma-separated Kubernetes label keys to export as columns, e.g. "app, app.kubernetes.io/name"',
  ),
  annotations: keyList('annotations', 'ANNOTATIONS', 'comma-separated Kubernetes annotation keys to export as columns'),
  // Lets tests and operators fix "today"; all windows are computed from it.
  now: Flags.custom<Date>({
    hidden: true,
    parse: async value => {
      const date = new Date(value)
      if (Number.isNaN(date.getTime()))
        throw new InvalidInputError('now', undefined, value, 'not an ISO 8601 date-time')
      return date
    },
  })(),
})

/**
 * oclif reads a boolean flag's environment variable loosely (anything but true/1/yes/y is false), so
 * a typo in TLS_VERIFY would silently turn verification off: refuse what is not a boolean.
 */
export function checkBooleanEnv(environment: Readonly<Record<string, string | undefined>>): void {
  const value = environment.TLS_VERIFY
  if (value !== undefined) parseBoolean(value, {flag: 'tls-verify', env: 'TLS_VERIFY'})
}
