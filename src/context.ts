import type {Interfaces} from '@oclif/core'

import {
  type awsFlags,
  awsTimeouts,
  checkBooleanEnv,
  type destinationFlags,
  flagSource,
  type sourceFlags,
} from './flags.js'
import type {AwsSession} from './lib/aws/session.js'
import type {RegionReport} from './lib/aws/region.js'
import {type ClusterIdentity, requireCluster} from './lib/cluster.js'
import type {ClusterMapping} from './lib/cluster-map.js'
import type {Destination} from './lib/destination/destination.js'
import {openDestination} from './lib/destination/open.js'
import {KubecostClient} from './lib/kubecost/client.js'
import {MIB} from './lib/kubecost/limits.js'
import {costSource, sourceUrl} from './lib/kubecost/source.js'
import {loadCaBundle} from './lib/kubecost/tls.js'
import {Layout} from './lib/layout.js'
import type {Logger} from './lib/log.js'

type ContextFlags = Interfaces.InferredFlags<typeof sourceFlags & typeof destinationFlags & typeof awsFlags>

/** What `export` and `backfill-plan` both build from their shared flags. */
export interface RunContext {
  cluster: ClusterIdentity
  layout: Layout
  destination: Destination
  kubecost: KubecostClient
  /** The AWS region of the run and where it came from; none when the run makes no AWS call (a local destination, no secret). */
  awsRegion?: RegionReport
}

export interface ContextOptions {
  /** The command line, to tell a flag from its environment variable (precedence: flag, then environment). */
  argv: readonly string[]
  /** Aborts Kubecost calls in flight (termination, the run's deadline). */
  signal?: AbortSignal
  /** Registers what the run opens (its AWS session, the Kubecost client) to be disposed of when the command ends. */
  use: <T extends AsyncDisposable>(resource: T) => T
}

/**
 * Flag over environment: `--output-dir` on the command line wins over an S3_BUCKET_NAME in the
 * environment, and `--bucket` over an OUTPUT_DIR; both as flags, or both in the environment, stay a
 * conflict for openDestination to refuse. `note` says which won, for the log.
 */
function chooseDestination(
  flags: {bucket?: string; 'output-dir'?: string},
  argv: readonly string[],
): {bucket?: string; outputDir?: string; note?: string} {
  const {bucket, 'output-dir': outputDir} = flags
  if (bucket === undefined || outputDir === undefined) return {bucket, outputDir}
  const bucketFrom = flagSource(argv, 'bucket', 'S3_BUCKET_NAME', process.env)
  const outputFrom = flagSource(argv, 'output-dir', 'OUTPUT_DIR', process.env)
  if (bucketFrom === 'flag' && outputFrom === 'env')
    return {bucket, note: `--bucket on the command line wins over OUTPUT_DIR "${outputDir}" in the environment`}
  if (outputFrom === 'flag' && bucketFrom === 'env')
    return {outputDir, note: `--output-dir on the command line wins over S3_BUCKET_NAME "${bucket}" in the environment`}
  return {bucket, outputDir}
}

export async function openContext(flags: ContextFlags, logger: Logger, options: ContextOptions): Promise<RunContext> {
  checkBooleanEnv(process.env)
  const cluster = requireCluster(flags['cluster-arn'])
  return {cluster, layout: new Layout(cluster, flags.prefix), ...(await openSource(flags, logger, options, cluster))}
}

/** Split mode: no one cluster names the files; the first mapped cluster's region stands in for the AWS region. */
export async function openSplitContext(
  flags: ContextFlags,
  clusters: readonly ClusterMapping[],
  logger: Logger,
  options: ContextOptions,
): Promise<Omit<RunContext, 'cluster' | 'layout'>> {
  checkBooleanEnv(process.env)
  return openSource(flags, logger, options, (clusters[0] as ClusterMapping).cluster)
}

async function openSource(
  flags: ContextFlags,
  logger: Logger,
  options: ContextOptions,
  cluster: ClusterIdentity,
): Promise<Omit<RunContext, 'cluster' | 'layout'>> {
  const {note, ...chosen} = chooseDestination(flags, options.argv)
  const secret = flags['ca-cert-secret']
  // Only a run that calls AWS opens a session (and so needs a valid region, and logs it first).
  const session =
    chosen.bucket !== undefined || secret !== undefined ? await openSession(flags, logger, options, cluster) : undefined
  if (note) logger.info(note)
  const destination = await openDestination({
    ...chosen,
    s3: {endpoint: flags['s3-endpoint'], timeoutMs: flags['s3-timeout']},
    session,
    timeoutSetting: '--s3-timeout (S3_REQUEST_TIMEOUT)',
    logger,
  })
  const ca = await loadCaBundle({
    file: flags['ca-cert-file'],
    secret:
      secret && session
        ? {
            name: secret,
            read: async () => {
              const {readSecretString} = await import('./lib/aws/secrets.js')
              const client = await session.client('secretsManager', flags['ca-cert-secret-region'] ?? cluster.region)
              const {attempt} = session.limits.aws
              return readSecretString(client, secret, {
                identity: session.identity.description,
                timeout: {setting: attempt.setting, seconds: attempt.ms / 1000},
              })
            },
          }
        : undefined,
  })
  if (!flags['tls-verify']) {
    logger.warn(
      'TLS certificate verification for Kubecost is off (--no-tls-verify / TLS_VERIFY=false): use this only for testing',
    )
  }

  const source = costSource(flags.source)
  const kubecost = options.use(
    new KubecostClient({
      baseUrl: sourceUrl(source, flags['kubecost-url']),
      source,
      connectTimeoutMs: flags['connect-timeout'],
      allocationReadTimeoutMs: flags['allocation-read-timeout'],
      assetsReadTimeoutMs: flags['assets-read-timeout'],
      allocationDeadlineMs: flags['allocation-deadline'],
      assetsDeadlineMs: flags['assets-deadline'],
      maxEntryBytes: flags['max-entry-mb'] * MIB,
      maxResponseBytes: flags['max-response-mb'] * MIB,
      ...(options.signal ? {signal: options.signal} : {}),
      tls: {ca, verify: flags['tls-verify']},
      retry: {retries: flags.retries, baseDelayMs: flags['retry-delay']},
      logger,
    }),
  )
  return {destination, kubecost, ...(session ? {awsRegion: session.regionReport} : {})}
}

/** Without a configured region, S3 starts from the cluster's and learns the bucket's from a redirect. */
async function openSession(
  flags: ContextFlags,
  logger: Logger,
  options: ContextOptions,
  cluster: ClusterIdentity,
): Promise<AwsSession> {
  const {AwsSession} = await import('./lib/aws/session.js')
  return options.use(
    await AwsSession.open({
      env: process.env,
      fallback: {region: cluster.region, described: "the cluster's region"},
      parentRoleArn: flags['parent-role-arn'],
      logger,
      signal: options.signal,
      aws: awsTimeouts(flags),
      s3: {timeoutMs: flags['s3-timeout'], deadlineMs: flags['s3-deadline']},
    }),
  )
}
