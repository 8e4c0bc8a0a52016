import {AthenaClient} from '@aws-sdk/client-athena'
import {GlueClient} from '@aws-sdk/client-glue'
import {QuickSightClient} from '@aws-sdk/client-quicksight'
import {S3Client} from '@aws-sdk/client-s3'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {STSClient} from '@aws-sdk/client-sts'
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  RetryErrorInfo,
  RetryStrategyV2,
  RetryToken,
} from '@smithy/types'

import {DEFAULT_AWS_TIMEOUT_MS, DEFAULT_S3_TIMEOUT_MS} from './limits.js'

/**
 * The only place that constructs AWS SDK clients. Credentials, region and endpoints come from the
 * SDK's standard chain (IRSA web identity, profiles, AWS_REGION, AWS_ENDPOINT_URL[_<SERVICE>]) unless
 * the caller injects them.
 */
export interface AwsClientOptions {
  region?: string
  credentials?: AwsCredentialIdentityProvider | AwsCredentialIdentity
  /** Connecting, and any wait for progress (an unanswered request, a stalled body), fails after this. */
  timeoutMs?: number
  /** Attempts of one call, the first included. */
  maxAttempts?: number
}

/** One failed attempt that is about to be sent again. */
export interface RetryEvent {
  error: unknown
  /** The attempt that failed, from 1. */
  attempt: number
  maxAttempts: number
  delayMs: number
  /** The SDK classed it as throttling (HTTP 429, SlowDown…): the back-off starts higher. */
  throttling: boolean
}

export {DEFAULT_S3_TIMEOUT_MS} from './limits.js'
export const DEFAULT_S3_MAX_ATTEMPTS = 5
const DEFAULT_AWS_MAX_ATTEMPTS = 3

export interface S3ClientOptions extends AwsClientOptions {
  /** An S3-compatible store (MinIO, Ceph): path-style addressing, checksums only when required. */
  endpoint?: string
  /** First back-off; throttling starts from five times it, as the SDK's standard mode does. */
  baseDelayMs?: number
  onRetry?: (event: RetryEvent) => void
  /** S3 named the bucket's region (`x-amz-bucket-region`) in a redirect: the client follows it for this call only. */
  onBucketRegion?: (region: string) => void
}

/** Region, credentials, and bounded attempts retried with back-off: what every client but S3's gets. */
function common(options: AwsClientOptions, maxAttempts = options.maxAttempts ?? DEFAULT_AWS_MAX_ATTEMPTS) {
  const timeout = options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS
  return {
    ...(options.region ? {region: options.region} : {}),
    ...(options.credentials ? {credentials: options.credentials} : {}),
    requestHandler: {connectionTimeout: timeout, socketTimeout: timeout},
    maxAttempts,
    retryStrategy: new BackoffRetryStrategy({maxAttempts, baseDelayMs: 100}),
  }
}

export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const timeout = options.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS
  const maxAttempts = options.maxAttempts ?? DEFAULT_S3_MAX_ATTEMPTS
  const client = new S3Client({
    ...common({...options, timeoutMs: timeout}, maxAttempts),
    // The bucket often lives in another region (the pipeline account's) than the pod's AWS_REGION.
    followRegionRedirects: true,
    retryStrategy: new BackoffRetryStrategy({
      maxAttempts,
      baseDelayMs: options.baseDelayMs ?? 100,
      onRetry: options.onRetry,
    }),
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  })
  const {onBucketRegion} = options
  if (onBucketRegion) {
    // Inside the retry loop, so every attempt's answer is seen, including the 301 the SDK then follows.
    client.middlewareStack.add(
      next => async args => {
        try {
          return await next(args)
        } catch (error) {
          const region = redirectRegion(error)
          if (region) onBucketRegion(region)
          throw error
        }
      },
      {step: 'finalizeRequest', priority: 'low', name: 'kubecostCidBucketRegion'},
    )
  }

  return client
}

/** The region S3 says the bucket is in, from a redirect (301, or a 400 the SDK also follows) carrying `x-amz-bucket-region`. */
export function redirectRegion(error: unknown): string | undefined {
  const {$metadata, $response} = (error ?? {}) as {
    $metadata?: {httpStatusCode?: number}
    $response?: {headers?: Record<string, string | undefined>}
  }
  const region = $response?.headers?.['x-amz-bucket-region']
  const status = $metadata?.httpStatusCode
  return region && (status === 301 || status === 400) ? region : undefined
}

/** Errors S3 answers when the body it received does not match the checksum sent with it: sending it again is the fix. */
const CORRUPTED_IN_TRANSIT = new Set([
  'BadDigest',
  'InvalidDigest',
  'XAmzContentSHA256Mismatch',
  'XAmzContentChecksumMismatch',
])

interface Token extends RetryToken {
  readonly attempt: number
}

/**
 * The SDK's standard mode, bounded attempts and exponential back-off with full jitter on the SDK's
 * own classification (throttling, transient: 5xx, timeouts, resets), plus a body corrupted in transit;
 * it reports each retry before the SDK waits and sends again. No shared retry quota: one run makes
 * its calls one after the other.
 */
class BackoffRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard'

  constructor(
    private readonly options: {maxAttempts: number; baseDelayMs: number; onRetry?: (event: RetryEvent) => void},
  ) {}

  async acquireInitialRetryToken(): Promise<Token> {
    return token(1, 0)
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<Token> {
    const attempt = (previous as Token).attempt
    const {maxAttempts, baseDelayMs, onRetry} = this.options
    const retryable =
      info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT' || CORRUPTED_IN_TRANSIT.has(awsName(info.error))
    if (!retryable || attempt >= maxAttempts) throw info.error as Error
    const base = info.errorType === 'THROTTLING' ? baseDelayMs * 5 : baseDelayMs
    let delayMs = Math.floor(Math.random() * Math.min(20_000, base * 2 ** attempt))
    if (info.retryAfterHint) delayMs = Math.max(delayMs, Math.min(info.retryAfterHint.getTime() - Date.now(), 20_000))
    onRetry?.({error: info.error, attempt, maxAttempts, delayMs, throttling: info.errorType === 'THROTTLING'})
    return token(attempt + 1, delayMs)
  }

  recordSuccess(): void {}
}

function token(attempt: number, delayMs: number): Token {
  return {attempt, getRetryCount: () => attempt - 1, getRetryDelay: () => delayMs}
}

function awsName(error: unknown): string {
  return error instanceof Error ? error.name : ''
}

export function createSecretsManagerClient(options: AwsClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient(common(options))
}

export function createStsClient(options: AwsClientOptions = {}): STSClient {
  return new STSClient(common(options))
}

// --- QuickSight (refresh-dataset) ---

export function createQuickSightClient(options: AwsClientOptions = {}): QuickSightClient {
  return new QuickSightClient(common(options))
}

/** Only GetCrawler is sent with it: refresh-dataset reads the crawler's schedule. */
export function createGlueScheduleClient(options: AwsClientOptions = {}): GlueClient {
  return new GlueClient(common(options))
}

// --- end QuickSight ---
// --- Glue and Athena (deploy-glue, crawl) ---
// More attempts: Glue and Athena throttle a burst of catalog calls.

export function createGlueClient(options: AwsClientOptions = {}): GlueClient {
  return new GlueClient(common(options, 5))
}

export function createAthenaClient(options: AwsClientOptions = {}): AthenaClient {
  return new AthenaClient(common(options, 5))
}

/** The client of each service the session's one generic getter makes (S3 has its own: more options). */
export interface AwsClients {
  athena: AthenaClient
  glue: GlueClient
  glueForSchedule: GlueClient
  quicksight: QuickSightClient
  secretsManager: SecretsManagerClient
  sts: STSClient
}

export const CLIENT_FACTORIES: {[S in keyof AwsClients]: (options: AwsClientOptions) => AwsClients[S]} = {
  athena: createAthenaClient,
  glue: createGlueClient,
  glueForSchedule: createGlueScheduleClient,
  quicksight: createQuickSightClient,
  secretsManager: createSecretsManagerClient,
  sts: createStsClient,
}
