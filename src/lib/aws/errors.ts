import {type CidError, DestinationError, describeCause} from '../errors.js'

export interface AwsCallContext {
  /** e.g. `s3:ListBucket` */
  action: string
  /** e.g. `s3://bucket/prefix` */
  resource: string
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'Forbidden', 'AllAccessDisabled'])
const BAD_CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
])

/** Turns an AWS SDK error into a CidError, by exception name and HTTP status — never by message text. */
export function classifyAwsError(error: unknown, context: AwsCallContext): CidError {
  const name = error instanceof Error ? error.name : ''
  const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode
  const where = `${context.action} on ${context.resource}`
  const detail = describeCause(error)

  if (name === 'NoSuchBucket') {
    return new DestinationError(`Bucket not found: ${where} failed (${detail})`, {
      cause: error,
      suggestions: ['Check --bucket (S3_BUCKET_NAME) and that the bucket exists.'],
    })
  }

  if (ACCESS_DENIED.has(name) || status === 403) {
    return new DestinationError(`Access denied: ${where} (${name || `HTTP ${status}`}: ${detail})`, {
      cause: error,
      suggestions: [`Grant ${context.action} on ${context.resource} to the role in use (IRSA role, or --parent-role-arn), and check the bucket policy.`],
    })
  }

  if (BAD_CREDENTIALS.has(name)) {
    return new DestinationError(`AWS credentials were rejected or missing: ${where} (${name}: ${detail})`, {
      cause: error,
      suggestions: ['Check the credentials in use: IRSA (service account annotation), AWS_PROFILE, or the environment.'],
    })
  }

  return new DestinationError(`${where} failed: ${name ? `${name}: ` : ''}${detail}`, {cause: error})
}
