import type {S3ClientOptions} from '../aws/clients.js'
import {ConfigError} from '../errors.js'
import type {Destination} from './destination.js'
import {LocalDestination} from './local.js'

export interface DestinationOptions {
  bucket?: string
  outputDir?: string
  s3?: S3ClientOptions
  /** Who the S3 calls are made as, for messages. */
  identity?: string
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
    const [{createS3Client}, {S3Destination}] = await Promise.all([import('../aws/clients.js'), import('./s3.js')])
    return new S3Destination(createS3Client(options.s3), options.bucket, options.identity)
  }

  throw new ConfigError('No destination: set --bucket (S3_BUCKET_NAME) or --output-dir (OUTPUT_DIR)', {
    suggestions: ['In the cluster, set S3_BUCKET_NAME; to try the tool locally, pass --output-dir ./out.'],
  })
}
