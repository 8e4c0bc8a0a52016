import type {Interfaces} from '@oclif/core'

import type {destinationFlags, sourceFlags} from './flags.js'
import {type ClusterIdentity, requireCluster} from './lib/cluster.js'
import type {Destination} from './lib/destination/destination.js'
import {openDestination} from './lib/destination/open.js'
import {KubecostClient} from './lib/kubecost/client.js'
import {Layout} from './lib/layout.js'

type SourceFlags = Interfaces.InferredFlags<typeof sourceFlags>
type DestinationFlags = Interfaces.InferredFlags<typeof destinationFlags>

/** What `export` and `backfill-plan` both build from their shared flags. */
export interface RunContext {
  cluster: ClusterIdentity
  layout: Layout
  destination: Destination
  kubecost: KubecostClient
}

export function openContext(flags: SourceFlags & DestinationFlags): RunContext {
  const cluster = requireCluster(flags['cluster-arn'])
  const destination = openDestination({bucket: flags.bucket, outputDir: flags['output-dir'], s3: {endpoint: flags['s3-endpoint']}})
  const kubecost = new KubecostClient({
    baseUrl: flags['kubecost-url'],
    connectTimeoutMs: flags['connect-timeout'],
    allocationReadTimeoutMs: flags['allocation-read-timeout'],
    assetsReadTimeoutMs: flags['assets-read-timeout'],
  })
  return {cluster, layout: new Layout(cluster, flags.prefix), destination, kubecost}
}
