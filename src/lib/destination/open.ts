import type {S3ClientOptions} from '../aws/clients.js'
import type {AwsSession} from '../aws/session.js'
import {ConfigError} from '../errors.js'
import type {Logger} from '../log.js'
import type {Destination} from './destination.js'
import {LocalDestination} from './local.js'
import {envVar, flag, setting} from '../settings.js'

export interface DestinationOptions {
  bucket?: string
  outputDir?: string
  /** The S3 client's settings beyond the session's region and credentials. */
  s3?: Omit<S3ClientOptions, 'region' | 'credentials'>
  /** Makes the S3 clients; its region is where calls start, until S3 names the bucket's region. */
  session?: AwsSession
  /** How the per-call S3 wait is set, for timeout messages, e.g. "--s3-timeout (S3_REQUEST_TIMEOUT)". */
  timeoutSetting?: string
  /** Retries and the bucket's region are reported here. */
  logger?: Logger
}

/** Exactly one of a bucket or a local directory. The AWS SDK is loaded only for a bucket. */
export async function openDestination(options: DestinationOptions): Promise<Destination> {
  if (options.bucket && options.outputDir) {
    throw new ConfigError(
      `Both ${setting('bucket')} "${options.bucket}" and ${setting('outputDir')} "${options.outputDir}" are set; choose one destination`,
      {
        suggestions: [
          `Unset ${envVar('bucket')} or ${envVar('outputDir')} in the environment if one of them came from there.`,
        ],
      },
    )
  }

  if (options.outputDir) return new LocalDestination(options.outputDir)
  if (options.bucket) {
    const {session} = options
    if (!session) throw new Error("an S3 destination needs the run's AWS session")
    const [{DEFAULT_S3_TIMEOUT_MS}, {S3Destination}] = await Promise.all([
      import('../aws/clients.js'),
      import('../aws/s3-destination.js'),
    ])
    const s3 = options.s3 ?? {}
    return new S3Destination({
      bucket: options.bucket,
      region: session.region.region,
      client: async (region, hooks) => session.s3({...s3, region, ...hooks}),
      identity: session.identity.description,
      logger: options.logger,
      // Without flexible checksums (an S3-compatible store), Content-MD5 is what lets the store refuse a corrupted body.
      contentMd5: s3.endpoint !== undefined,
      timeout: options.timeoutSetting
        ? {setting: options.timeoutSetting, seconds: (s3.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS) / 1000}
        : undefined,
      regionSource: session.region.described,
      endpoint: s3.endpoint,
    })
  }

  throw new ConfigError(`No destination: set ${setting('bucket')} or ${setting('outputDir')}`, {
    suggestions: [`In the cluster, set ${envVar('bucket')}; to try the tool locally, pass ${flag('outputDir')} ./out.`],
  })
}
