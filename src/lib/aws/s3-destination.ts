import {AsyncLocalStorage} from 'node:async_hooks'
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'

import {ListObjectsV2Command, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3'

import type {RetryEvent} from './clients.js'
import {awsErrorName, classifyAwsError, isForeignAnswer} from './errors.js'
import {describeCause} from '../errors.js'
import {localIoError} from '../local-io.js'
import {type Logger, silentLogger} from '../log.js'
import type {CallOptions, Destination} from '../destination/destination.js'

/** What the destination needs of a client for one region: retries reported, redirects seen. */
export interface S3ClientHooks {
  onRetry(event: RetryEvent): void
  onBucketRegion(region: string): void
}

export interface S3DestinationOptions {
  bucket: string
  /** The region to start from; replaced by the bucket's own once S3 names it. */
  region: string
  /** Builds a client signing for `region`; called once per region. */
  client(region: string, hooks: S3ClientHooks): Promise<S3Client>
  /** Who the calls are made as, for access-denied messages. */
  identity?: string
  logger?: Logger
  /**
   * Send Content-MD5 with each upload: for a store that computes no flexible checksum (`--s3-endpoint`
   * sends checksums only when required), so that a body corrupted on the way is still refused.
   */
  contentMd5?: boolean
  /** How the per-call wait is bounded and set, for timeout messages. */
  timeout?: {setting: string; seconds: number}
  /** Where the configured region came from, for the message when the bucket is elsewhere. */
  regionSource?: string
  /** The S3-compatible endpoint configured for the calls, for the messages when it cannot be reached. */
  endpoint?: string
}

interface Call {
  operation: string
  target: string
}

/**
 * An S3 bucket. PutObject is atomic: an object appears at its key only once fully uploaded. The body
 * is the whole file in memory (one day is a few MB) so that the SDK can send it again: after a
 * region redirect, throttling, a 5xx, a timeout or a connection cut mid-body.
 */
export class S3Destination implements Destination {
  readonly bucket: string
  private region: string
  private readonly clients = new Map<string, Promise<S3Client>>()
  private readonly calls = new AsyncLocalStorage<Call>()
  private readonly logger: Logger

  constructor(private readonly options: S3DestinationOptions) {
    this.bucket = options.bucket
    this.region = options.region
    this.logger = options.logger ?? silentLogger
  }

  get description(): string {
    return `s3://${this.bucket}`
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${key}`
  }

  async listKeys(prefix: string, options: CallOptions = {}): Promise<string[]> {
    const keys: string[] = []
    let token: string | undefined
    do {
      let page
      try {
        const command = new ListObjectsV2Command({Bucket: this.bucket, Prefix: prefix, ContinuationToken: token})
        page = await this.send({operation: 'ListObjectsV2', target: this.locate(prefix)}, async client =>
          client.send(command, {abortSignal: options.signal}),
        )
      } catch (error) {
        throw this.classify(error, 's3:ListBucket', this.locate(prefix), [])
      }

      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return keys
  }

  async put(key: string, file: string, options: CallOptions = {}): Promise<void> {
    let body: Buffer
    try {
      body = await readFile(file)
    } catch (error) {
      // The day's file in the work directory: a local failure, never S3's.
      throw localIoError(error, {
        action: 'read',
        path: file,
        purpose: `to upload it to ${this.locate(key)}`,
        place: 'work',
      })
    }

    try {
      const command = new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: 'application/vnd.apache.parquet',
        ...(this.options.contentMd5 ? {ContentMD5: createHash('md5').update(body).digest('base64')} : {}),
      })
      await this.send({operation: 'PutObject', target: this.locate(key)}, async client =>
        client.send(command, {abortSignal: options.signal}),
      )
    } catch (error) {
      throw this.classify(error, 's3:PutObject', this.locate(key), [
        `Nothing was stored at ${this.locate(key)}; the next run collects the day again.`,
      ])
    }
  }

  /** Runs one SDK call with what it is about known to the retry log. */
  private async send<Output>(call: Call, request: (client: S3Client) => Promise<Output>): Promise<Output> {
    return this.calls.run(call, async () => request(await this.clientFor(this.region)))
  }

  private async clientFor(region: string): Promise<S3Client> {
    let client = this.clients.get(region)
    if (!client) {
      client = this.options.client(region, {
        onRetry: event => this.logRetry(event),
        onBucketRegion: bucketRegion => this.learnRegion(bucketRegion),
      })
      this.clients.set(region, client)
    }

    return client
  }

  private logRetry({error, attempt, maxAttempts, delayMs, throttling}: RetryEvent): void {
    const call = this.calls.getStore()
    const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode
    const code = (error as {code?: unknown} | undefined)?.code
    // A Node.js network error's code (ECONNRESET) says more than the name the SDK gives it (TimeoutError);
    // an answer without an error code is its status alone.
    const name = typeof code === 'string' ? code : isForeignAnswer(error) ? '' : awsErrorName(error)
    const reason = [status ? `HTTP ${status}` : '', name].filter(Boolean).join(' ')
    this.logger.warn(
      `S3 ${call?.operation ?? 'call'} of ${call?.target ?? this.description} failed (${reason || describeCause(error)}), attempt ${attempt} of ${maxAttempts}; retrying in ${(delayMs / 1000).toFixed(1)} s`,
      {operation: call?.operation, key: call?.target, reason, throttling, attempt, maxAttempts, delayMs},
    )
  }

  /** Later calls of the run go straight to the bucket's region instead of being redirected each time. */
  private learnRegion(bucketRegion: string): void {
    if (bucketRegion === this.region) return
    const configured = this.options.region
    this.logger.info(
      `Bucket ${this.bucket} is in region ${bucketRegion}, not ${configured}${this.options.regionSource ? ` (${this.options.regionSource})` : ''}: ` +
        `using ${bucketRegion} for the rest of the run. Set AWS_REGION=${bucketRegion} in the exporter's environment to save the redirect.`,
      {bucket: this.bucket, bucketRegion, configuredRegion: configured},
    )
    this.region = bucketRegion
  }

  private classify(error: unknown, action: string, resource: string, afterFailure: string[]) {
    return classifyAwsError(error, {
      action,
      resource,
      identity: this.options.identity,
      region: this.region,
      timeout: this.options.timeout,
      afterFailure,
      endpoint: this.options.endpoint,
    })
  }
}
