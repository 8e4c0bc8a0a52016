/**
 * deploy-glue end to end, over the catalog, the workgroups and a listing of the table location
 * handed in: plan every resource, apply the plan (unless it is a dry run), and look for objects
 * under the table location that would break the crawler.
 */
import {type Catalog, type ResourceOutcome, applyPlan, outcome, planDeployment} from './deploy.js'
import type {DeployConfig} from './definitions.js'
import {foreignKeys, foreignWarning} from './foreign.js'
import type {Verification} from './verify.js'
import {type WantedWorkgroup, type WorkgroupApi, planWorkgroup} from './workgroup.js'

export interface DeployResult {
  dryRun: boolean
  resources: ResourceOutcome[]
  /** Objects under the table location that are not exporter files (up to 5 examples). */
  foreignObjects: {count: number; examples: string[]; truncated: boolean}
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
  /** The workgroup the dashboard's queries run in, checked; or the one to create or update. */
  workgroup: {use: string; create?: WantedWorkgroup}
}

export async function deploy(
  apis: DeploymentApis,
  config: DeployConfig,
  options: DeploymentOptions,
): Promise<DeployResult> {
  const steps = await planDeployment(config, apis.catalog, {allowColumnRemoval: options.allowColumnRemoval})
  const workgroup = await planWorkgroup(apis.workgroups, options.workgroup)
  if (workgroup.step) steps.push(workgroup.step)
  const resources = options.dryRun ? steps.map(s => outcome(s)) : await applyPlan(steps)

  const prefix = config.prefix ? `${config.prefix}/` : ''
  const listing = await apis.listKeys(prefix)
  const foreign = foreignKeys(listing.keys, config.prefix)
  const warnings = [
    workgroup.warning,
    foreignWarning(`s3://${config.bucket}/${prefix}`, foreign, listing.truncated),
  ].filter(w => w !== undefined)
  return {
    dryRun: options.dryRun,
    resources,
    foreignObjects: {count: foreign.length, examples: foreign.slice(0, 5), truncated: listing.truncated},
    warnings,
  }
}
