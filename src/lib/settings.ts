/**
 * How library code refers to a setting in its messages without knowing what the command line calls
 * it: a token naming the setting by id (the camelCase of its flag's name), which the command layer
 * renders from its flag definitions — `--allocation-read-timeout (KUBECOST_ALLOCATION_API_READ_TIMEOUT)`
 * — wherever the text ends up (an error, a suggestion, a log line, a --json result). So a flag or an
 * environment variable is renamed in one place, and a message can never name one that does not exist.
 */

/** Every setting library messages refer to; a test checks that each one is a flag of some command. */
export const SETTINGS = [
  'accountId',
  'adopt',
  'aggregation',
  'allocationDeadline',
  'allocationReadTimeout',
  'allowColumnRemoval',
  'annotations',
  'assetsDeadline',
  'assetsReadTimeout',
  'athenaWorkgroup',
  'awsDeadline',
  'awsTimeout',
  'backfillDays',
  'bucket',
  'bucketAdminRole',
  'caCertFile',
  'caCertSecret',
  'check',
  'clusterArn',
  'clusterMap',
  'clusterMapFile',
  'configureSchedule',
  'connectTimeout',
  'crawler',
  'crawlerRoleArn',
  'createWorkgroup',
  'database',
  'datasetId',
  'dryRun',
  'force',
  'from',
  'kubecostUrl',
  'labels',
  'maxEntryMb',
  'maxResponseMb',
  'maxRowsPerDay',
  'outputDir',
  'parentRoleArn',
  'parseThreads',
  'policyFile',
  'prefix',
  'printRecommended',
  'quicksightRoleArn',
  'region',
  'resultsKmsKey',
  'resultsLocation',
  'runDeadline',
  's3Deadline',
  's3Endpoint',
  's3Timeout',
  'scheduleTime',
  'source',
  'splitByCluster',
  'strict',
  'table',
  'timeout',
  'tlsVerify',
  'to',
  'type',
  'verify',
  'verifyTimeout',
  'view',
  'workgroup',
] as const

export type SettingId = (typeof SETTINGS)[number]

type Form = 'setting' | 'flag' | 'env' | 'negated'

const token = (form: Form, id: SettingId) => `{{${form}:${id}}}`

/** `--flag (ENV)`: the flag and its environment variable. */
export const setting = (id: SettingId): string => token('setting', id)
/** `--flag` alone. */
export const flag = (id: SettingId): string => token('flag', id)
/** `ENV` alone. */
export const envVar = (id: SettingId): string => token('env', id)
/** `--no-flag`, for a boolean flag that is on by default. */
export const negated = (id: SettingId): string => token('negated', id)

export interface SettingName {
  flag: string
  env?: string
}

/** The flag (and environment variable) of a setting id, as the command that runs defines them. */
export type SettingLookup = (id: string) => SettingName | undefined

const TOKEN = /\{\{(setting|flag|env|negated):([A-Za-z0-9]+)\}\}/g

const kebab = (id: string) => id.replace(/[A-Z0-9]+/g, m => `-${m.toLowerCase()}`)

/** `text` with its setting tokens in the words the command line uses. */
export function renderSettings(text: string, lookup: SettingLookup): string {
  if (!text.includes('{{')) return text
  return text.replace(TOKEN, (_, form: Form, id: string) => {
    // An id no command defines still reads as a flag rather than as a token.
    const name = lookup(id) ?? {flag: kebab(id)}
    switch (form) {
      case 'flag': {
        return `--${name.flag}`
      }

      case 'negated': {
        return `--no-${name.flag}`
      }

      case 'env': {
        return name.env ?? `--${name.flag}`
      }

      case 'setting': {
        return name.env ? `--${name.flag} (${name.env})` : `--${name.flag}`
      }
    }
  })
}

/** Every string in `value` (an error, a result object) rendered; other values as they are. */
export function renderSettingsDeep<T>(value: T, lookup: SettingLookup): T {
  if (typeof value === 'string') return renderSettings(value, lookup) as T
  if (Array.isArray(value)) return value.map(v => renderSettingsDeep(v as unknown, lookup)) as T
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderSettingsDeep(v as unknown, lookup)])) as T
  }

  return value
}
