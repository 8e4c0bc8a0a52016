import {AwsError, CidError, RunAbortedError, describeCause} from '../errors.js'
import {excerpt} from '../sanitize.js'
import {flag, setting} from '../settings.js'
import {redactCredentials} from '../validate.js'
import {CallDeadlineError} from './limits.js'

export interface AwsCallContext {
  /** e.g. `s3:ListBucket` */
  action: string
  /** e.g. `s3://bucket/prefix` */
  resource: string
  /** Which identity made the call, for access errors, e.g. "role arn:aws:iam::...:role/x (assumed)". */
  identity?: string
  /** The region the call was signed for, for region errors. */
  region?: string
  /** What bounds a call's wait, for timeouts: the setting that changes it, e.g. "--s3-timeout (S3_REQUEST_TIMEOUT)", and its value. */
  timeout?: {setting: string; seconds: number}
  /** What becomes of the work after a failure that may pass (throttling, timeouts, 5xx), e.g. that the next run does it again. */
  afterFailure?: string[]
  /**
   * The S3-compatible endpoint the call went to, when one is configured (`--s3-endpoint`): a failure
   * to reach it is about that store and that setting, not about the network path to AWS.
   */
  endpoint?: string
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'Forbidden',
  'AllAccessDisabled',
  'AuthorizationError',
])
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
const WRONG_REGION = new Set([
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
])
const CORRUPTED = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch', 'XAmzContentChecksumMismatch'])
const THROTTLED = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
])
// --- Glue and Athena (deploy-glue, crawl) ---
/** Another writer changed the resource, or the crawler is busy: the same call may pass once it is done. */
const CONCURRENT = new Set([
  'ConcurrentModificationException',
  'CrawlerRunningException',
  'CrawlerStoppingException',
  'SchedulerTransitioningException',
  'ConcurrentRunsExceededException',
])
const ALREADY_EXISTS = new Set(['AlreadyExistsException'])
const TIMED_OUT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])
/**
 * The SDK's names for an error answer that carried no error code of the service: 'Unknown' when the
 * body parsed but named none, the parser's own 'Error' when it was not XML (or JSON) at all. Its
 * message is then the SDK's ("UnknownError", "XML parse error … Deserialization error …"), not the
 * server's: typically a page from a proxy, a load balancer or an S3-compatible store.
 */
const NO_ERROR_CODE = new Set(['Unknown', 'Error'])
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
])
const SERVICES: Record<string, string> = {
  s3: 'S3',
  glue: 'Glue',
  athena: 'Athena',
  quicksight: 'QuickSight',
  sts: 'STS',
  secretsmanager: 'Secrets Manager',
}

// --- QuickSight (refresh-dataset) ---
/** A service quota or rate limit that waiting (not retrying at once) lifts, e.g. QuickSight's ingestions per 24 hours. */
const LIMIT_EXCEEDED = new Set(['LimitExceededException', 'ServiceQuotaExceededException'])
/** The account's QuickSight edition or pricing plan lacks the feature (incremental refresh needs Enterprise). */
const UNSUPPORTED_EDITION = new Set(['UnsupportedUserEditionException', 'UnsupportedPricingPlanException'])
/** What the call would create is there already (QuickSight: an ingestion in progress, a schedule id taken). */
const RESOURCE_EXISTS = new Set(['ResourceExistsException'])
// --- end QuickSight ---

export const DEFAULT_IDENTITY = 'the default credentials (IRSA role in the pod, or AWS_PROFILE / environment)'

/**
 * Turns an AWS SDK error into a CidError, by exception name and HTTP status — never by message text.
 * Errors that are already CidErrors (e.g. from a credential provider of ours) pass through.
 */
export function classifyAwsError(error: unknown, context: AwsCallContext): CidError {
  const where = `${context.action} on ${context.resource}`
  // The run was stopped by a signal during this call: say which call, once (the innermost knows best).
  if (error instanceof RunAbortedError && error.detail === undefined)
    return new RunAbortedError(error.signal, {detail: `stopped during ${where}`, cause: error})
  if (error instanceof CidError) return error
  const name = error instanceof Error ? error.name : ''
  const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode
  const detail = describeCause(error)
  const identity = context.identity ?? DEFAULT_IDENTITY

  if (NOT_FOUND.has(name)) {
    const what = name === 'NoSuchBucket' ? 'Bucket not found' : 'Not found'
    return new AwsError('AWS_NOT_FOUND', `${what}: ${where} failed (${name}: ${detail})`, {
      cause: error,
      suggestions: ['Check the name and the region it lives in.'],
    })
  }

  // --- QuickSight (refresh-dataset): answered with HTTP 403, so decided before access denied ---
  if (RESOURCE_EXISTS.has(name)) {
    return new AwsError('AWS_ALREADY_EXISTS', `Already there: ${where} failed (${name}: ${detail})`, {cause: error})
  }

  if (UNSUPPORTED_EDITION.has(name)) {
    return new AwsError(
      'AWS_UNSUPPORTED_EDITION',
      `QuickSight refused ${where}: the account's edition or pricing plan does not support it (${name}: ${detail})`,
      {
        cause: error,
        suggestions: [
          `Incremental refresh and refresh schedules through the API need QuickSight Enterprise edition: upgrade under Manage QuickSight > Account settings, or use ${flag('type')} full.`,
        ],
      },
    )
  }
  // --- end QuickSight ---

  if (isAccessDeniedError(error)) {
    return new AwsError('AWS_ACCESS_DENIED', `Access denied: ${where} as ${identity} (${name || `HTTP ${status}`})`, {
      cause: error,
      suggestions: [
        `Allow ${context.action} on ${context.resource} for ${identity}, and check the resource's own policy (bucket policy, key policy, role trust policy).`,
      ],
    })
  }

  if (BAD_CREDENTIALS.has(name)) {
    return new AwsError(
      'AWS_CREDENTIALS',
      `AWS credentials were rejected or missing for ${where} (${name}): using ${identity}`,
      {
        cause: error,
        suggestions: [
          "In the pod: check the service account's eks.amazonaws.com/role-arn annotation and the role's trust policy. On a laptop: check AWS_PROFILE or run aws sso login.",
        ],
      },
    )
  }

  const service = SERVICES[context.action.split(':')[0] ?? ''] ?? 'AWS'
  const attempts = (error as {$metadata?: {attempts?: number}} | undefined)?.$metadata?.attempts
  const then = context.afterFailure ?? []
  const code = (error as {code?: unknown} | undefined)?.code
  const endpoint = context.endpoint === undefined ? undefined : redactCredentials(context.endpoint)
  const reached = endpoint ? `${service} at ${endpoint}` : service
  const network = endpoint
    ? endpointHint(endpoint, code)
    : `Check the network path to ${service} from the pod (VPC endpoint, NAT gateway, proxy, security groups).`

  if (error instanceof CallDeadlineError) {
    const {setting: limit, ms} = error.limit
    return new AwsError(
      'AWS_DEADLINE',
      `${reached} did not answer ${where} before the ${ms / 1000} s of ${limit} passed`,
      {
        cause: error,
        suggestions: [network, `If ${service} is slow but answering, raise ${limit}.`, ...then],
      },
    )
  }
  const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : ''
  const foreign = isForeignAnswer(error)
  const answer = foreign
    ? foreignAnswer(error, status, endpoint ?? `the ${service} endpoint`, service)
    : `${status ? `HTTP ${status} ` : ''}${name || 'Error'}: ${detail}`
  // Who answered with a page of its own: the service itself always answers with an error code.
  const pageFrom = endpoint
    ? `the store or a proxy at ${endpoint}`
    : `a proxy or gateway between here and ${service} (${service} itself answers with an error code)`

  // --- QuickSight (refresh-dataset) ---
  if (LIMIT_EXCEEDED.has(name)) {
    return new AwsError('AWS_LIMIT_EXCEEDED', `${service} refused ${where}: a limit is reached (${answer})`, {
      cause: error,
      suggestions: [...then, 'Wait for the limit to reset, or ask for a higher quota in Service Quotas.'],
    })
  }

  // --- end QuickSight ---

  if (WRONG_REGION.has(name) || status === 301) {
    const bucketRegion = bucketRegionOf(error)
    const where_ = bucketRegion ? `in region ${bucketRegion}` : 'in another region'
    return new AwsError(
      'AWS_WRONG_REGION',
      `${service} says the bucket is ${where_}${context.region && context.region !== bucketRegion ? `, not ${context.region}` : ''}: ${where} failed${tries} (${answer})`,
      {
        cause: error,
        suggestions: [
          bucketRegion
            ? `Set AWS_REGION=${bucketRegion} (the bucket's region) in the exporter's environment.`
            : "Set AWS_REGION to the bucket's region in the exporter's environment.",
          `An endpoint override (AWS_ENDPOINT_URL_S3, ${flag('s3Endpoint')}, a VPC endpoint) must serve the bucket's region.`,
        ],
      },
    )
  }

  if (name === 'AbortError') {
    return new AwsError('AWS_ABORTED', `${where} was aborted: the run is being stopped`, {
      cause: error,
      suggestions: then,
    })
  }

  if (CORRUPTED.has(name)) {
    return new AwsError(
      'AWS_CORRUPTED',
      `${service} rejected the body as corrupted in transit (its checksum did not match): ${where} failed${tries} (${answer})`,
      {
        cause: error,
        suggestions: [
          ...then,
          `If it persists, look for a proxy or network device that alters request bodies on the way to ${service}.`,
        ],
      },
    )
  }

  if (THROTTLED.has(name) || status === 429) {
    return new AwsError('AWS_THROTTLED', `${service} is throttling requests: ${where} failed${tries} (${answer})`, {
      cause: error,
      suggestions: [
        ...then,
        foreign
          ? `The limit is set by ${pageFrom}: if it happens every night, raise it there.`
          : 'If it happens every night, look for other heavy writers under the same prefix of the bucket.',
      ],
    })
  }

  // The SDK names a reset connection TimeoutError too; its code tells the two apart.
  if (typeof code === 'string' && NETWORK_CODES.has(code) && code !== 'ETIMEDOUT') {
    return new AwsError(
      'AWS_NETWORK',
      `The connection to ${reached} failed: ${where} failed${tries} (${code}: ${detail})`,
      {
        cause: error,
        suggestions: [network, ...then],
      },
    )
  }

  if (TIMED_OUT.has(name) || code === 'ETIMEDOUT') {
    return new AwsError(
      'AWS_TIMEOUT',
      `${reached} did not answer in time: ${where} timed out${tries}${context.timeout ? `, each attempt waiting ${context.timeout.seconds} s (${context.timeout.setting})` : ''} (${answer})`,
      {
        cause: error,
        suggestions: [
          network,
          ...(context.timeout
            ? [
                `If the calls are slow but progressing, raise ${context.timeout.setting} (now ${context.timeout.seconds} s).`,
              ]
            : []),
          ...then,
        ],
      },
    )
  }

  // --- Glue and Athena (deploy-glue, crawl) ---
  if (CONCURRENT.has(name)) {
    return new AwsError(
      'AWS_CONCURRENT',
      `${where} failed: the resource is busy or was changed at the same time (${name}: ${detail})`,
      {
        cause: error,
        suggestions: [
          ...then,
          'Wait for the running crawl or the other change to finish (kubecost-cid crawl waits for a crawl), then run the command again.',
        ],
      },
    )
  }

  if (ALREADY_EXISTS.has(name)) {
    return new AwsError(
      'AWS_ALREADY_EXISTS',
      `${where} failed: it was created by someone else meanwhile (${name}: ${detail})`,
      {
        cause: error,
        suggestions: ['Run the command again: it then compares with what exists and updates it.'],
      },
    )
  }

  if (status !== undefined && status >= 500) {
    return new AwsError('AWS_SERVER_ERROR', `${service} failed: ${where} failed${tries} (${answer})`, {
      cause: error,
      suggestions: [
        ...then,
        foreign
          ? `The page came from ${pageFrom}: check its health and logs.`
          : 'If it persists, check the AWS Health Dashboard for the region.',
      ],
    })
  }

  return new AwsError('AWS', `${where} failed${tries}: ${foreign ? answer : `${name ? `${name}: ` : ''}${detail}`}`, {
    cause: error,
  })
}

/**
 * Whether the error is an HTTP answer that carried no error code of the service (see NO_ERROR_CODE):
 * its status says what happened, its message does not.
 */
export function isForeignAnswer(error: unknown): boolean {
  const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode
  return status !== undefined && NO_ERROR_CODE.has(awsErrorName(error))
}

/** An answer without an error code, by what is known of it: the status, who sent it, its content type. */
function foreignAnswer(error: unknown, status: number | undefined, from: string, service: string): string {
  const type = (error as {$response?: {headers?: Record<string, string | undefined>}} | undefined)?.$response
    ?.headers?.['content-type']
  return `HTTP ${status ?? '?'} from ${from}, with no ${service} error code${type ? `: ${excerpt(type, 80)}` : ''}`
}

/** What to check when the configured endpoint cannot be reached: the store and the setting, by failure. */
function endpointHint(endpoint: string, code: unknown): string {
  const url = URL.parse(endpoint)
  const named = `${setting('s3Endpoint')} "${endpoint}"`
  switch (code) {
    case 'ECONNREFUSED': {
      return `Nothing accepts connections at ${url?.host ?? endpoint}: check the host and port in ${named}, and that the store is running.`
    }

    case 'ENOTFOUND':
    case 'EAI_AGAIN': {
      return `The host name ${url?.hostname ?? endpoint} in ${named} could not be resolved: check it (a <service>.<namespace> name resolves only inside the cluster).`
    }

    default: {
      return `Check ${named}: that the store is up and reachable from here (network policies, security groups, firewalls).`
    }
  }
}

/** The bucket's region as S3 names it: the `x-amz-bucket-region` header, or the `Region` of an AuthorizationHeaderMalformed body. */
function bucketRegionOf(error: unknown): string | undefined {
  const {$response, Region} = (error ?? {}) as {
    $response?: {headers?: Record<string, string | undefined>}
    Region?: unknown
  }
  return $response?.headers?.['x-amz-bucket-region'] ?? (typeof Region === 'string' ? Region : undefined)
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
