/**
 * The region of a run, resolved once for every command as the AWS SDK and CLI resolve it: the
 * command's --region, then AWS_REGION, AWS_DEFAULT_REGION, then the `region` of the profile
 * (AWS_PROFILE, else `default`) in the shared config file (AWS_CONFIG_FILE, else ~/.aws/config) or
 * credentials file, read with the SDK's own loader. Where it came from is kept, for the first log
 * line, --json and every message about the region. A malformed value is refused wherever it came
 * from, naming the place: the SDK would only reject it at the first call.
 */
import {join, sep} from 'node:path'

import {ConfigError, InvalidInputError} from '../errors.js'
import {flag, setting} from '../settings.js'
import {parseRegion} from '../validate.js'

export type RegionSource = 'flag' | 'AWS_REGION' | 'AWS_DEFAULT_REGION' | 'profile' | 'fallback'

export interface ResolvedRegion {
  region: string
  source: RegionSource
  /** Where the region came from: "--region", "AWS_REGION", "profile ops in ~/.aws/config", "the cluster's region, as ...". */
  described: string
}

export interface RegionInputs {
  /** The command's `--region` flag (or its variable), already validated, where it has one. */
  flag?: string
  /** Whether the command has a `--region` flag: a missing region's message names it then. */
  regionFlag?: boolean
  env: Readonly<Record<string, string | undefined>>
  /**
   * What the command uses when nothing sets a region (export: the cluster ARN's region). Without
   * one, a command with no region configured is refused: it would act in a region nobody chose.
   */
  fallback?: {region: string; described: string}
}

/** The region as --json shows it. */
export interface RegionReport {
  name: string
  source: string
}

export async function resolveRegion(inputs: RegionInputs): Promise<ResolvedRegion> {
  if (inputs.flag) return {region: inputs.flag, source: 'flag', described: setting('region')}
  for (const variable of ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const) {
    const value = inputs.env[variable]
    if (value) return {region: checked(value, variable), source: variable, described: variable}
  }

  const profile = await profileRegion(inputs.env)
  if (profile.region !== undefined) {
    const described = `profile ${profile.name} in ${profile.file}`
    return {region: checked(profile.region, `the region of ${described}`), source: 'profile', described}
  }

  if (inputs.fallback) {
    return {
      region: inputs.fallback.region,
      source: 'fallback',
      described: `${inputs.fallback.described}, as no AWS region is configured`,
    }
  }

  const ways = [
    ...(inputs.regionFlag ? [setting('region')] : []),
    'AWS_REGION',
    `region = <region> in profile ${profile.name} of ${profile.file}`,
  ]
  throw new ConfigError(`No AWS region is configured: set ${ways.join(', or ')}`, {
    suggestions: [
      `For example ${inputs.regionFlag ? `${flag('region')} us-east-1, or ` : ''}AWS_REGION=us-east-1. AWS_PROFILE picks the profile and AWS_CONFIG_FILE the file.`,
    ],
  })
}

/** A malformed region, wherever it came from: exit 2. */
export class RegionConfigError extends ConfigError {
  override readonly code = 'INVALID_REGION'
}

function checked(value: string, from: string): string {
  try {
    return parseRegion(value, {flag: 'region'})
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error
    throw new RegionConfigError(`Invalid AWS region "${value}" in ${from}: not an AWS region name such as us-east-1`, {
      suggestions: [`Correct or unset ${from}.`],
    })
  }
}

/**
 * The profile's region, as the SDK reads it: the config file's `[profile <name>]` (`[default]`)
 * over the credentials file's `[<name>]`. The files' paths and the profile come from `env`.
 */
async function profileRegion(
  env: Readonly<Record<string, string | undefined>>,
): Promise<{name: string; file: string; region?: string}> {
  const {DEFAULT_PROFILE, REGION_INI_NAME, getHomeDir, loadSharedConfigFiles} = await import('@smithy/core/config')
  const home = getHomeDir()
  const configFile = env.AWS_CONFIG_FILE || join(home, '.aws', 'config')
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')
  const name = env.AWS_PROFILE || DEFAULT_PROFILE
  const files = await loadSharedConfigFiles({configFilepath: configFile, filepath: credentialsFile})
  const shown = (path: string) => (path.startsWith(home + sep) ? `~${path.slice(home.length)}` : path)
  const fromConfig = files.configFile[name]?.[REGION_INI_NAME]
  const fromCredentials = files.credentialsFile[name]?.[REGION_INI_NAME]
  if (fromConfig !== undefined) return {name, file: shown(configFile), region: fromConfig}
  if (fromCredentials !== undefined) return {name, file: shown(credentialsFile), region: fromCredentials}
  return {name, file: shown(configFile)}
}
