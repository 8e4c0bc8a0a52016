import {AssumeRoleCommand, type STSClient} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'

import type {Logger} from '../log.js'
import {classifyAwsError} from './errors.js'
import {SESSION_NAME} from './identity.js'

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
      const {Credentials: c} = await options.sts.send(
        new AssumeRoleCommand({
          RoleArn: options.roleArn,
          RoleSessionName: options.sessionName ?? SESSION_NAME,
          DurationSeconds: options.durationSeconds ?? 3600,
        }),
      )
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials')
      current = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      }
      options.logger?.info(
        `Assumed role ${options.roleArn} (session ${options.sessionName ?? SESSION_NAME})${c.Expiration ? `, valid until ${c.Expiration.toISOString()}` : ''}`,
      )
      return current
    } catch (error) {
      throw classifyAwsError(error, {action: 'sts:AssumeRole', resource: options.roleArn, identity: options.identity})
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
