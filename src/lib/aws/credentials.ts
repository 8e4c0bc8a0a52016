import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  type Credentials,
  type STSClient,
} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'

import type {Logger} from '../log.js'
import {type AwsCallContext, classifyAwsError} from './errors.js'
import {SESSION_NAME} from './identity.js'

/** What a failed STS call's message needs besides the call: who made it, and the per-attempt timeout. */
type CallContext = Pick<AwsCallContext, 'identity' | 'timeout'>

export interface AssumedRoleOptions {
  /** An STS client holding the base credentials (the pod's IRSA identity). */
  sts: STSClient
  roleArn: string
  sessionName?: string
  durationSeconds?: number
  /** Assume again when the credentials expire within this margin. */
  refreshMarginMs?: number
  now?: () => number
  logger?: Logger
  /** Who assumes the role, for access-denied messages. */
  identity?: string
  timeout?: AwsCallContext['timeout']
}

/**
 * Role chaining: credentials of `roleArn`, assumed with the base credentials and assumed again
 * before they expire, so a back-fill that outlives a one-hour chained session keeps working (the
 * old exporter's session expired mid-run).
 */
export function assumedRoleCredentials(options: AssumedRoleOptions): AwsCredentialIdentityProvider {
  const margin = options.refreshMarginMs ?? 5 * 60_000
  const now = options.now ?? Date.now
  let current: AwsCredentialIdentity | undefined
  let pending: Promise<AwsCredentialIdentity> | undefined

  const assume = async (): Promise<AwsCredentialIdentity> => {
    try {
      const params = {
        RoleArn: options.roleArn,
        RoleSessionName: options.sessionName ?? SESSION_NAME,
        DurationSeconds: options.durationSeconds ?? 3600,
      }
      current = await assumeRole(options.sts, params, {identity: options.identity, timeout: options.timeout})
      options.logger?.info(
        `Assumed role ${options.roleArn} (session ${params.RoleSessionName})${current.expiration ? `, valid until ${current.expiration.toISOString()}` : ''}`,
      )
      return current
    } finally {
      pending = undefined
    }
  }

  return async () => {
    const fresh = current && (!current.expiration || current.expiration.getTime() - now() > margin)
    if (fresh && current) return current
    pending ??= assume()
    return pending
  }
}

/**
 * The SDK's default chain (environment, SSO, profiles, web identity, container and instance
 * metadata), its role assumptions — a profile's `role_arn`, the web identity of IRSA — sent with
 * STS clients from `sts`, which the session bounds like all of its clients, instead of clients of
 * the SDK's own that no deadline bounds and no signal stops.
 */
export async function defaultChainCredentials(options: {
  /** An STS client signing with `credentials` (none: the web identity call is not signed). */
  sts: (credentials?: AwsCredentialIdentity) => Promise<STSClient>
  context?: CallContext
}): Promise<AwsCredentialIdentityProvider> {
  const {defaultProvider} = await import('@aws-sdk/credential-provider-node')
  const context = options.context ?? {}
  return defaultProvider({
    roleAssumer: async (source, params) => assumeRole(await options.sts(source), params, context),
    roleAssumerWithWebIdentity: async params => assumeRoleWithWebIdentity(await options.sts(), params, context),
  })
}

async function assumeRole(
  sts: STSClient,
  params: AssumeRoleCommandInput,
  context: CallContext,
): Promise<AwsCredentialIdentity> {
  try {
    return identityOf((await sts.send(new AssumeRoleCommand(params))).Credentials, 'AssumeRole')
  } catch (error) {
    throw classifyAwsError(error, {...context, action: 'sts:AssumeRole', resource: params.RoleArn ?? 'a role'})
  }
}

async function assumeRoleWithWebIdentity(
  sts: STSClient,
  params: AssumeRoleWithWebIdentityCommandInput,
  context: CallContext,
): Promise<AwsCredentialIdentity> {
  try {
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand(params))
    return identityOf(out.Credentials, 'AssumeRoleWithWebIdentity')
  } catch (error) {
    throw classifyAwsError(error, {
      identity: 'the web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)',
      timeout: context.timeout,
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: params.RoleArn ?? 'a role',
    })
  }
}

function identityOf(c: Credentials | undefined, action: string): AwsCredentialIdentity {
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`${action} returned no credentials`)
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  }
}
