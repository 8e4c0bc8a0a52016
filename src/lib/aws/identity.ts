import type {STSClient} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'

import type {Logger} from '../log.js'
import {type AwsCallContext, DEFAULT_IDENTITY} from './errors.js'

/**
 * The session name of the role the exporter assumes: the old exporter's, kept so CloudTrail queries
 * still match (the trust policies `iam-policy` prints require it). Here, not with the STS calls, so
 * reading it loads no AWS SDK.
 */
export const SESSION_NAME = 'kubecost-s3-exporter'

/** The identity every AWS client of a run uses, and how to name it in messages. */
export interface AwsIdentity {
  credentials: AwsCredentialIdentityProvider
  description: string
}

/**
 * The default chain, or — with a parent role — that role assumed from the default chain's
 * credentials (role chaining), refreshed before expiry. Every STS call on the way is made with a
 * client from `sts`.
 */
export async function resolveIdentity(options: {
  parentRoleArn?: string
  /** The process environment, to name the default chain's identity in messages. */
  env?: Readonly<Record<string, string | undefined>>
  /** An STS client signing with `credentials`, or with none (for the web identity call, which is not signed). */
  sts: (credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider) => Promise<STSClient>
  logger?: Logger
  /** The per-attempt timeout, for messages about STS calls that time out. */
  timeout?: AwsCallContext['timeout']
}): Promise<AwsIdentity> {
  const base = describeDefaultIdentity(options.env ?? {})
  const {assumedRoleCredentials, defaultChainCredentials} = await import('./credentials.js')
  const chain = await defaultChainCredentials({sts: options.sts, context: {identity: base, timeout: options.timeout}})
  if (!options.parentRoleArn) return {credentials: chain, description: base}
  return {
    credentials: assumedRoleCredentials({
      sts: await options.sts(chain),
      roleArn: options.parentRoleArn,
      identity: base,
      logger: options.logger,
      timeout: options.timeout,
    }),
    description: `role ${options.parentRoleArn} (assumed from ${base})`,
  }
}

/**
 * What the SDK's default chain will use, as far as the environment tells, without calling AWS:
 * the IRSA role the pod identity webhook set, a profile, or static keys. Never a secret.
 */
export function describeDefaultIdentity(env: Readonly<Record<string, string | undefined>>): string {
  // In the order the SDK's chain tries them.
  if (env.AWS_ACCESS_KEY_ID) return 'the access key in AWS_ACCESS_KEY_ID'
  if (env.AWS_PROFILE) return `profile ${env.AWS_PROFILE} (AWS_PROFILE)`
  if (env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE) return `role ${env.AWS_ROLE_ARN} (web identity, e.g. IRSA)`
  return DEFAULT_IDENTITY
}
