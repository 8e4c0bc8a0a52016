import {
  GetBucketEncryptionCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3'

import {type AwsCallContext, awsErrorName, classifyAwsError, isAccessDeniedError} from './errors.js'

/**
 * The bucket's safety settings, read with one call each. A setting that is not configured is a
 * finding (S3 says so with a specific error code per setting), and so is one the caller may not
 * read or the endpoint does not implement; a missing bucket or rejected credentials end the run.
 */

export type Reading<T> =
  {state: 'configured'; value: T} | {state: 'not-configured'} | {state: 'unreadable'; reason: string}

export interface EncryptionRule {
  algorithm?: string
  kmsKeyId?: string
}

export interface PublicAccessBlock {
  BlockPublicAcls: boolean
  IgnorePublicAcls: boolean
  BlockPublicPolicy: boolean
  RestrictPublicBuckets: boolean
}

export interface BucketSettings {
  /** The policy document as S3 returns it (JSON text). */
  policy: Reading<string>
  encryption: Reading<EncryptionRule[]>
  publicAccessBlock: Reading<PublicAccessBlock>
  objectOwnership: Reading<string>
}

const NOT_IMPLEMENTED = new Set(['NotImplemented', 'MethodNotAllowed', 'UnsupportedOperation'])

/** Who reads, what bounds an attempt and where the store is: for the message of a failure that ends the run. */
type ReadContext = Pick<AwsCallContext, 'identity' | 'timeout' | 'endpoint'>

async function read<T>(
  bucket: string,
  action: string,
  notConfigured: string,
  call: () => Promise<T | undefined>,
  context: ReadContext,
): Promise<Reading<T>> {
  try {
    const value = await call()
    return value === undefined ? {state: 'not-configured'} : {state: 'configured', value}
  } catch (error) {
    const name = awsErrorName(error)
    if (name === notConfigured) return {state: 'not-configured'}
    if (isAccessDeniedError(error)) return {state: 'unreadable', reason: `${action} was denied (${name || 'HTTP 403'})`}
    // S3-compatible stores (MinIO, Ceph, ...) leave some of these APIs out: that check cannot be made, the others can.
    const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode
    if (NOT_IMPLEMENTED.has(name) || status === 501)
      return {
        state: 'unreadable',
        reason: `${action} is not implemented by this S3 endpoint (${name || `HTTP ${status}`})`,
      }
    throw classifyAwsError(error, {...context, action, resource: `s3://${bucket}`})
  }
}

export async function readBucketSettings(
  s3: S3Client,
  bucket: string,
  context: ReadContext = {},
): Promise<BucketSettings> {
  const Bucket = bucket
  const [policy, encryption, publicAccessBlock, objectOwnership] = await Promise.all([
    read(
      bucket,
      's3:GetBucketPolicy',
      'NoSuchBucketPolicy',
      async () => (await s3.send(new GetBucketPolicyCommand({Bucket}))).Policy,
      context,
    ),
    read(
      bucket,
      's3:GetEncryptionConfiguration',
      'ServerSideEncryptionConfigurationNotFoundError',
      async () => {
        const rules =
          (await s3.send(new GetBucketEncryptionCommand({Bucket}))).ServerSideEncryptionConfiguration?.Rules ?? []
        return rules.map(r => ({
          ...(r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm
            ? {algorithm: r.ApplyServerSideEncryptionByDefault.SSEAlgorithm}
            : {}),
          ...(r.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID
            ? {kmsKeyId: r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID}
            : {}),
        }))
      },
      context,
    ),
    read(
      bucket,
      's3:GetBucketPublicAccessBlock',
      'NoSuchPublicAccessBlockConfiguration',
      async () => {
        const c = (await s3.send(new GetPublicAccessBlockCommand({Bucket}))).PublicAccessBlockConfiguration
        return c
          ? {
              BlockPublicAcls: c.BlockPublicAcls === true,
              IgnorePublicAcls: c.IgnorePublicAcls === true,
              BlockPublicPolicy: c.BlockPublicPolicy === true,
              RestrictPublicBuckets: c.RestrictPublicBuckets === true,
            }
          : undefined
      },
      context,
    ),
    read(
      bucket,
      's3:GetBucketOwnershipControls',
      'OwnershipControlsNotFoundError',
      async () => {
        const rules = (await s3.send(new GetBucketOwnershipControlsCommand({Bucket}))).OwnershipControls?.Rules ?? []
        return rules[0]?.ObjectOwnership
      },
      context,
    ),
  ])
  return {policy, encryption, publicAccessBlock, objectOwnership}
}
