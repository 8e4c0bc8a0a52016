import {AwsError, CidError, describeCause} from '../errors.js'

export interface AwsCallContext {
  /** e.g. `s3:ListBucket` */
  action: string
  /** e.g. `s3://bucket/prefix` */
  resource: string
  /** Which identity made the call, for access errors, e.g. "role arn:aws:iam::...:role/x (assumed)". */
  identity?: string
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'Forbidden', 'AllAccessDisabled', 'AuthorizationError'])
const BAD_CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'InvalidIdentityToken',
])
const NOT_FOUND = new Set(['NoSuchBucket', 'ResourceNotFoundException', 'NoSuchEntity', 'EntityNotFoundException'])

export const DEFAULT_IDENTITY = 'the default credentials (IRSA role in the pod, or AWS_PROFILE / environment)'

/**
 * Turns an AWS SDK error into a CidError, by exception name and HTTP status — never by message text.
 * Errors that are already CidErrors (e.g. from a credential provider of ours) pass through.
 */
export function classifyAwsError(error: unknown, context: AwsCallContext): CidError {
  if (error instanceof CidError) return error
  const name = error instanceof Error ? error.name : ''
  const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode
  const where = `${context.action} on ${context.resource}`
  const detail = describeCause(error)
  const identity = context.identity ?? DEFAULT_IDENTITY

  if (NOT_FOUND.has(name)) {
    const what = name === 'NoSuchBucket' ? 'Bucket not found' : 'Not found'
    return new AwsError('AWS_NOT_FOUND', `${what}: ${where} failed (${name}: ${detail})`, {
      cause: error,
      suggestions: ['Check the name and the region it lives in.'],
    })
  }

  if (isAccessDeniedError(error)) {
    return new AwsError('AWS_ACCESS_DENIED', `Access denied: ${where} as ${identity} (${name || `HTTP ${status}`})`, {
      cause: error,
      suggestions: [`Allow ${context.action} on ${context.resource} for ${identity}, and check the resource's own policy (bucket policy, key policy, role trust policy).`],
    })
  }

  if (BAD_CREDENTIALS.has(name)) {
    return new AwsError('AWS_CREDENTIALS', `AWS credentials were rejected or missing for ${where} (${name}): using ${identity}`, {
      cause: error,
      suggestions: ['In the pod: check the service account\'s eks.amazonaws.com/role-arn annotation and the role\'s trust policy. On a laptop: check AWS_PROFILE or run aws sso login.'],
    })
  }

  return new AwsError('AWS', `${where} failed: ${name ? `${name}: ` : ''}${detail}`, {cause: error})
}

/** The SDK's name for an error (its S3/AWS error code), or '' for something that is not an SDK error. */
export function awsErrorName(error: unknown): string {
  return error instanceof Error ? error.name : ''
}

/**
 * Whether the caller was refused (by IAM, a bucket policy, an SCP), by exception name and HTTP status;
 * rejected credentials also come back as 403 and are not this.
 */
export function isAccessDeniedError(error: unknown): boolean {
  const name = awsErrorName(error)
  const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode
  return ACCESS_DENIED.has(name) || (status === 403 && !BAD_CREDENTIALS.has(name))
}
