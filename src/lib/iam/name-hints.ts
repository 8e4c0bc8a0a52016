/**
 * The least-privilege policies iam-policy prints name every resource: a crawler, table or dataset
 * given another name than the one the policy was printed for is denied, and the denial hides the
 * hint a wrong name would otherwise get ("does not exist, create it with deploy-glue", the datasets
 * that look like the dashboard's). When the denied resource's name is not that one, the access
 * denied error says so first.
 */
import {AwsError} from '../errors.js'
import {type SettingId, flag, setting} from '../settings.js'
import {DEFAULTS} from './policies.js'

export type NamedKind = 'database' | 'table' | 'view' | 'crawler' | 'dataset' | 'workgroup'

/** The names the printed policies allow when iam-policy is given none. */
const ALLOWED: Record<NamedKind, string> = {
  database: DEFAULTS.database,
  table: DEFAULTS.table,
  view: DEFAULTS.view,
  crawler: DEFAULTS.crawler,
  dataset: DEFAULTS.datasetId,
  workgroup: 'primary',
}

/** How iam-policy is told the name, for the kinds it has a flag for. */
const POLICY_SETTING: Partial<Record<NamedKind, SettingId>> = {dataset: 'datasetId', workgroup: 'workgroup'}

export interface NamedResource {
  kind: NamedKind
  name: string
  /** The setting of the running command that gives the name, when one does. */
  setting?: SettingId
}

/**
 * A table or view of the catalog, named in the policy by its database and its name: when the
 * database is not the policy's, that is what the hint is about.
 */
export function catalogObject(
  database: string,
  name: string,
  kind: 'table' | 'view' = 'table',
  settings: {database?: SettingId; name?: SettingId} = {},
): NamedResource {
  return database === ALLOWED.database
    ? {kind, name, setting: settings.name}
    : {kind: 'database', name: database, setting: settings.database}
}

/** `error` with the hint first when it is an access denied on a resource whose name the printed policy does not allow; else `error`. */
export function withNameHint(error: unknown, resource: NamedResource): unknown {
  const allowed = ALLOWED[resource.kind]
  if (!(error instanceof AwsError) || error.code !== 'AWS_ACCESS_DENIED' || resource.name === allowed) return error
  const {kind, name} = resource
  const policySetting = POLICY_SETTING[kind]
  const widen = policySetting
    ? `print the policy again with iam-policy ${flag(policySetting)} ${name}`
    : `change ${kind} ${allowed} to ${name} in that policy's resources`
  const hint = `${kind} ${name} is not ${allowed}, the ${kind} the policy printed by iam-policy allows${policySetting ? ' unless given another' : ''}, and a name the policy does not allow is denied rather than reported missing: if ${name} is mistyped, ${resource.setting ? `correct ${setting(resource.setting)}` : 'correct it'}; if it is right, ${widen}.`
  return new AwsError(error.code, error.summary, {cause: error.cause, suggestions: [hint, ...error.suggestions]})
}

/** `work`, its access denied error hinted for `resource`. */
export async function named<T>(resource: NamedResource, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (error) {
    throw withNameHint(error, resource)
  }
}
