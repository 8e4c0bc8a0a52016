import type {Interfaces} from '@oclif/core'

import type {awsFlags, destinationFlags, sourceFlags} from './flags.js'
import {resolveIdentity} from './lib/aws/identity.js'
import {type ClusterIdentity, requireCluster} from './lib/cluster.js'
import type {Destination} from './lib/destination/destination.js'
import {openDestination} from './lib/destination/open.js'
import {KubecostClient} from './lib/kubecost/client.js'
import {MIB} from './lib/kubecost/limits.js'
import {loadCaBundle} from './lib/kubecost/tls.js'
import {Layout} from './lib/layout.js'
import type {Logger} from './lib/log.js'
import {parseBoolean} from './lib/validate.js'

type ContextFlags = Interfaces.InferredFlags<typeof sourceFlags & typeof destinationFlags & typeof awsFlags>

/** The region the AWS SDK would be configured with from the environment, if any. */
export function configuredRegion(): string | undefined {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
}

/** What `export` and `backfill-plan` both build from their shared flags. */
export interface RunContext {
  cluster: ClusterIdentity
  layout: Layout
  destination: Destination
  kubecost: KubecostClient
}

export interface ContextOptions {
  /** Aborts Kubecost calls in flight (termination, the run's deadline). */
  signal?: AbortSignal
}

export async function openContext(flags: ContextFlags, logger: Logger, options: ContextOptions = {}): Promise<RunContext> {
  // oclif reads boolean env vars loosely (anything but yes/true/1/y is false); refuse typos instead.
  if (process.env.TLS_VERIFY !== undefined) parseBoolean(process.env.TLS_VERIFY, {flag: 'tls-verify', env: 'TLS_VERIFY'})
  const cluster = requireCluster(flags['cluster-arn'])
  const identity = await resolveIdentity({parentRoleArn: flags['parent-role-arn'], region: cluster.region, env: process.env, logger})
  const destination = await openDestination({
    bucket: flags.bucket,
    outputDir: flags['output-dir'],
    s3: {
      endpoint: flags['s3-endpoint'],
      credentials: identity.credentials,
      // Without a configured region, start from the cluster's: the client follows redirects to the bucket's.
      region: configuredRegion() ?? cluster.region,
      timeoutMs: flags['s3-timeout'],
    },
    regionSource: process.env.AWS_REGION ? 'AWS_REGION' : process.env.AWS_DEFAULT_REGION ? 'AWS_DEFAULT_REGION' : 'the cluster\'s region, as AWS_REGION is not set',
    timeoutSetting: '--s3-timeout (S3_REQUEST_TIMEOUT)',
    identity: identity.description,
    logger,
  })
  const ca = await loadCaBundle({
    file: flags['ca-cert-file'],
    secret: flags['ca-cert-secret']
      ? {
          name: flags['ca-cert-secret'],
          client: async () => {
            const {createSecretsManagerClient} = await import('./lib/aws/clients.js')
            return createSecretsManagerClient({region: flags['ca-cert-secret-region'] ?? cluster.region, credentials: identity.credentials})
          },
          identity: identity.description,
        }
      : undefined,
  })
  if (!flags['tls-verify']) {
    logger.warn('TLS certificate verification for Kubecost is off (--no-tls-verify / TLS_VERIFY=false): use this only for testing')
  }

  const kubecost = new KubecostClient({
    baseUrl: flags['kubecost-url'],
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
  })
  return {cluster, layout: new Layout(cluster, flags.prefix), destination, kubecost}
}
