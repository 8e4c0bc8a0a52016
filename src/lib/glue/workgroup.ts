import {type PlannedStep, existingStep} from './deploy.js'
import {MARKER} from './definitions.js'
import {type NamedResource, named} from '../iam/name-hints.js'
import {workgroupOwnership} from './ownership.js'
import {flag, setting} from '../settings.js'

/**
 * The Athena workgroup: either the user's own (default `primary`), only checked for a query result
 * location, which every query (and QuickSight's) needs; or a dedicated one deploy-glue creates with
 * its own result location, enforced so clients cannot send results elsewhere, and encrypted.
 */
export interface WorkgroupSettings {
  outputLocation?: string
  encryption?: string
  kmsKey?: string
  enforced?: boolean
  description?: string
}

export interface WorkgroupApi {
  /** The workgroup's settings, or undefined when there is none of that name. */
  getWorkgroup(name: string): Promise<WorkgroupSettings | undefined>
  /** The tags of a workgroup that exists. */
  workgroupTags(name: string): Promise<Record<string, string>>
  tagWorkgroup(name: string, tags: Readonly<Record<string, string>>): Promise<void>
  createWorkgroup(
    name: string,
    settings: Required<Pick<WorkgroupSettings, 'outputLocation' | 'encryption'>> & WorkgroupSettings,
    tags: Readonly<Record<string, string>>,
  ): Promise<void>
  updateWorkgroup(
    name: string,
    settings: Required<Pick<WorkgroupSettings, 'outputLocation' | 'encryption'>> & WorkgroupSettings,
  ): Promise<void>
}

export interface WantedWorkgroup {
  name: string
  outputLocation: string
  kmsKey?: string
}

const slash = (location: string | undefined) => (location ?? '').replace(/\/*$/, '/')

export function workgroupSettings(wanted: WantedWorkgroup) {
  return {
    outputLocation: slash(wanted.outputLocation),
    encryption: wanted.kmsKey ? 'SSE_KMS' : 'SSE_S3',
    enforced: true,
    ...(wanted.kmsKey ? {kmsKey: wanted.kmsKey} : {}),
  }
}

export function compareWorkgroup(have: WorkgroupSettings, wanted: WantedWorkgroup): string[] {
  const want = workgroupSettings(wanted)
  const changes: string[] = []
  if (slash(have.outputLocation) !== want.outputLocation)
    changes.push(`result location changed: ${have.outputLocation ?? 'none'} → ${want.outputLocation}`)
  if (have.encryption !== want.encryption || (want.kmsKey ?? '') !== (have.kmsKey ?? '')) {
    changes.push(
      `encryption changed: ${have.encryption ?? 'none'}${have.kmsKey ? ` ${have.kmsKey}` : ''} → ${want.encryption}${want.kmsKey ? ` ${want.kmsKey}` : ''}`,
    )
  }

  if (have.enforced !== true) changes.push('configuration now enforced')
  return changes
}

/** Why the user's own workgroup cannot run the dashboard's queries, or undefined when it can. */
export function workgroupProblem(name: string, have: WorkgroupSettings | undefined): string | undefined {
  if (!have)
    return `Athena workgroup ${name} does not exist: ${setting('athenaWorkgroup')} names one that does, or ${flag('createWorkgroup')} makes one`
  if (!have.outputLocation) {
    return `Athena workgroup ${name} has no query result location, so Athena and QuickSight queries in it fail: set one in the workgroup, or pass ${flag('createWorkgroup')} kubecost ${flag('resultsLocation')} s3://<bucket>/athena-results/`
  }

  return undefined
}

/**
 * The dedicated workgroup's step, or for the user's own workgroup only a warning when it cannot run
 * queries. An existing workgroup of that name that deploy-glue did not create is left alone unless
 * `adopt`.
 */
export async function planWorkgroup(
  api: WorkgroupApi,
  spec: {create?: WantedWorkgroup; use: string},
  adopt = false,
): Promise<{step?: PlannedStep; warning?: string}> {
  const {create} = spec
  if (!create) {
    const use: NamedResource = {kind: 'workgroup', name: spec.use, setting: 'athenaWorkgroup'}
    return {warning: workgroupProblem(spec.use, await named(use, api.getWorkgroup(spec.use)))}
  }

  return planOwnWorkgroup(hintedWorkgroups(api, create.name), create, adopt)
}

/** The workgroup calls, an access denied on a workgroup the printed policy does not name hinted as such. */
function hintedWorkgroups(api: WorkgroupApi, name: string): WorkgroupApi {
  const workgroup: NamedResource = {kind: 'workgroup', name, setting: 'createWorkgroup'}
  return {
    getWorkgroup: async n => named(workgroup, api.getWorkgroup(n)),
    workgroupTags: async n => named(workgroup, api.workgroupTags(n)),
    tagWorkgroup: async (n, tags) => named(workgroup, api.tagWorkgroup(n, tags)),
    createWorkgroup: async (n, settings, tags) => named(workgroup, api.createWorkgroup(n, settings, tags)),
    updateWorkgroup: async (n, settings) => named(workgroup, api.updateWorkgroup(n, settings)),
  }
}

async function planOwnWorkgroup(
  api: WorkgroupApi,
  create: WantedWorkgroup,
  adopt: boolean,
): Promise<{step?: PlannedStep; warning?: string}> {
  const have = await api.getWorkgroup(create.name)
  const settings = workgroupSettings(create)
  if (!have)
    return {
      step: {
        kind: 'workgroup',
        name: create.name,
        action: 'created',
        changes: [],
        apply: () => api.createWorkgroup(create.name, settings, MARKER),
      },
    }
  const owner = workgroupOwnership(have, await api.workgroupTags(create.name))
  const changes = compareWorkgroup(have, create)
  return {
    step: existingStep('workgroup', create.name, owner, changes, adopt, async () => {
      if (!owner.marked) await api.tagWorkgroup(create.name, MARKER)
      if (changes.length > 0) await api.updateWorkgroup(create.name, settings)
    }),
  }
}
