import type {S3ClientOptions} from '../aws/clients.js'
import {ConfigError} from '../errors.js'
import type {Logger} from '../log.js'
import type {Destination} from './destination.js'
import {LocalDestination} from './local.js'

export interface DestinationOptions {
  bucket?: string
  outputDir?: string
  /** The S3 client's settings; `region` is where calls start, until S3 names the bucket's region. */
  s3?: S3ClientOptions
  /** Where the region came from, for the message when the bucket is elsewhere, e.g. "AWS_REGION". */
  regionSource?: string
  /** How the per-call S3 wait is set, for timeout messages, e.g. "--s3-timeout (S3_REQUEST_TIMEOUT)". */
  timeoutSetting?: string
  /** Who the S3 calls are made as, for messages. */
  identity?: string
  /** Retries and the bucket's region are reported here. */
  logger?: Logger
}

/** Exactly one of a bucket or a local directory. The AWS SDK is loaded only for a bucket. */
export async function openDestination(options: DestinationOptions): Promise<Destination> {
  if (options.bucket && options.outputDir) {
    throw new ConfigError(
      `Both --bucket (S3_BUCKET_NAME) "${options.bucket}" and --output-dir (OUTPUT_DIR) "${options.outputDir}" are set; choose one destination`,
      {suggestions: ['Unset S3_BUCKET_NAME or OUTPUT_DIR in the environment if one of them came from there.']},
    )
  }

  if (options.outputDir) return new LocalDestination(options.outputDir)
  if (options.bucket) {
    const [{createS3Client, DEFAULT_S3_TIMEOUT_MS}, {S3Destination}] = await Promise.all([import('../aws/clients.js'), import('./s3.js')])
    const s3 = options.s3 ?? {}
    return new S3Destination({
      bucket: options.bucket,
      // us-east-1 answers for every bucket, with a redirect to its region.
      region: s3.region ?? 'us-east-1',
      client: (region, hooks) => createS3Client({...s3, region, ...hooks}),
      identity: options.identity,
      logger: options.logger,
      // Without flexible checksums (an S3-compatible store), Content-MD5 is what lets the store refuse a corrupted body.
      contentMd5: s3.endpoint !== undefined,
      timeout: options.timeoutSetting ? {setting: options.timeoutSetting, seconds: (s3.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS) / 1000} : undefined,
      regionSource: options.regionSource,
    })
  }

  throw new ConfigError('No destination: set --bucket (S3_BUCKET_NAME) or --output-dir (OUTPUT_DIR)', {
    suggestions: ['In the cluster, set S3_BUCKET_NAME; to try the tool locally, pass --output-dir ./out.'],
  })
}
