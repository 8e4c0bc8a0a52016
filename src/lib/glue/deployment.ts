/**
 * deploy-glue end to end, over the catalog, the workgroups and a listing of the table location
 * handed in: plan every resource, apply the plan (unless it is a dry run, or it found objects it did
 * not make), and look for objects under the table location that would break the crawler. A failure
 * after something was written comes back with the result, so the caller reports what changed.
 */
import {CidError} from '../errors.js'
import {flag} from '../settings.js'
import {type Applied, type Catalog, type ResourceOutcome, applyPlan, outcome, planDeployment} from './deploy.js'
import type {DeployConfig} from './definitions.js'
import {foreignKeys, foreignWarning} from './foreign.js'
import {foreignError} from './ownership.js'
import type {Verification} from './verify.js'
import {type WantedWorkgroup, type WorkgroupApi, planWorkgroup} from './workgroup.js'

export interface DeployResult {
  dryRun: boolean
  /** Each resource as the run left it (in a dry run, as the run would). */
  resources: ResourceOutcome[]
  /** Changes planned but not made: the run stopped before them (a failed call, objects it did not make). */
  notApplied: ResourceOutcome[]
  /** Objects under the table location that are not exporter files (up to 5 examples); absent when the run stopped before listing. */
  foreignObjects?: {count: number; examples: string[]; truncated: boolean}
  warnings: string[]
  /** The --verify query that read the view, when asked for and something was written. */
  verified?: Verification
}

export interface DeploymentApis {
  catalog: Catalog
  workgroups: WorkgroupApi
  /** Keys under the table location (`prefix` with its trailing slash, '' for the bucket's root), up to a limit. */
  listKeys(prefix: string): Promise<{keys: string[]; truncated: boolean}>
}

export interface DeploymentOptions {
  dryRun: boolean
  allowColumnRemoval: boolean
  /** Take over existing objects deploy-glue did not make (see ownership.ts). */
  adopt: boolean
  /** The workgroup the dashboard's queries run in, checked; or the one to create or update. */
  workgroup: {use: string; create?: WantedWorkgroup}
}

/** The run's result, and the failure that ended it after the plan was made (everything in the result happened). */
export interface Deployment {
  result: DeployResult
  failure?: CidError
}

export async function deploy(
  apis: DeploymentApis,
  config: DeployConfig,
  options: DeploymentOptions,
): Promise<Deployment> {
  const {adopt, dryRun} = options
  const steps = await planDeployment(config, apis.catalog, {allowColumnRemoval: options.allowColumnRemoval, adopt})
  const workgroup = await planWorkgroup(apis.workgroups, options.workgroup, adopt)
  if (workgroup.step) steps.push(workgroup.step)
  const warnings = workgroup.warning ? [workgroup.warning] : []
  const foreign = steps.filter(s => s.action === 'foreign')
  let applied: Applied
  if (dryRun) {
    applied = {done: steps.map(s => outcome(s)), notApplied: []}
    if (foreign.length > 0)
      warnings.push(
        `${foreign.map(f => `${f.kind} ${f.name}`).join(', ')} ${foreign.length === 1 ? 'was' : 'were'} not made by deploy-glue: a run without ${flag('dryRun')} changes nothing and exits 1, unless ${flag('adopt')} is given`,
      )
  } else if (foreign.length > 0) {
    // Someone else's objects: nothing is written, not even what does not depend on them.
    const untouched = (s: (typeof steps)[number]) => s.action === 'unchanged' || s.action === 'foreign'
    applied = {
      done: steps.filter(s => untouched(s)).map(s => outcome(s)),
      notApplied: steps.filter(s => !untouched(s)).map(s => outcome(s)),
      failure: foreignError(foreign, options.workgroup.create !== undefined),
    }
  } else {
    applied = await applyPlan(steps)
  }

  const result: DeployResult = {dryRun, resources: applied.done, notApplied: applied.notApplied, warnings}
  if (applied.failure) return {result, failure: applied.failure}

  const prefix = config.prefix ? `${config.prefix}/` : ''
  let listing: {keys: string[]; truncated: boolean}
  try {
    listing = await apis.listKeys(prefix)
  } catch (error) {
    // The listing only advises; what was written by then is the result.
    if (error instanceof CidError) return {result, failure: error}
    throw error
  }

  const found = foreignKeys(listing.keys, config.prefix)
  const warning = foreignWarning(`s3://${config.bucket}/${prefix}`, found, listing.truncated)
  if (warning) warnings.push(warning)
  result.foreignObjects = {count: found.length, examples: found.slice(0, 5), truncated: listing.truncated}
  return {result}
}
