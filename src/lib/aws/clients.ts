import {S3Client} from '@aws-sdk/client-s3'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {STSClient} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentityProvider} from '@smithy/types'

import type {Logger} from '../log.js'
import {assumedRoleCredentials} from './credentials.js'
import {DEFAULT_IDENTITY} from './errors.js'

/**
 * The only place that constructs AWS SDK clients. Credentials, region and endpoints come from the
 * SDK's standard chain (IRSA web identity, profiles, AWS_REGION, AWS_ENDPOINT_URL[_<SERVICE>]) unless
 * the caller injects them.
 */
export interface AwsClientOptions {
  region?: string
  credentials?: AwsCredentialIdentityProvider
}

export interface S3ClientOptions extends AwsClientOptions {
  /** An S3-compatible store (MinIO, Ceph): path-style addressing, checksums only when required. */
  endpoint?: string
}

function common(options: AwsClientOptions) {
  return {
    ...(options.region ? {region: options.region} : {}),
    ...(options.credentials ? {credentials: options.credentials} : {}),
  }
}

export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...common(options),
    // The bucket often lives in another region (the pipeline account's) than the pod's AWS_REGION.
    followRegionRedirects: true,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  })
}

export function createSecretsManagerClient(options: AwsClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient(common(options))
}

export function createStsClient(options: AwsClientOptions = {}): STSClient {
  return new STSClient(common(options))
}

/** The identity every AWS client of a run uses, and how to name it in messages. */
export interface AwsIdentity {
  credentials?: AwsCredentialIdentityProvider
  description: string
}

/**
 * The default chain, or — with a parent role — that role assumed from the default chain's
 * credentials (role chaining), refreshed before expiry.
 */
export function resolveIdentity(options: {
  parentRoleArn?: string
  region?: string
  /** The process environment, to name the default chain's identity in messages. */
  env?: Readonly<Record<string, string | undefined>>
  sts?: STSClient
  logger?: Logger
}): AwsIdentity {
  const base = describeDefaultIdentity(options.env ?? {})
  if (!options.parentRoleArn) return {description: base}
  const sts = options.sts ?? createStsClient({region: options.region})
  return {
    credentials: assumedRoleCredentials({sts, roleArn: options.parentRoleArn, identity: base, logger: options.logger}),
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
