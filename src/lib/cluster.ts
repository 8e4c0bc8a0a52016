import {ConfigError, type InputSource, invalidInput} from './errors.js'
import {envVar, flag, setting} from './settings.js'

export interface ClusterIdentity {
  arn: string
  partition: string
  region: string
  accountId: string
  name: string
}

// EKS cluster names: 1-100 chars, alphanumerics, hyphens and underscores, starting with an alphanumeric.
const CLUSTER_ARN_RE =
  /^arn:(aws[a-z-]*):eks:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):cluster\/([A-Za-z0-9][A-Za-z0-9_-]{0,99})$/

/**
 * Parses an EKS cluster ARN of any partition (aws, aws-cn, aws-us-gov, aws-iso...) and any region,
 * including the ones the old exporter rejected (me-south-1, il-central-1, af-south-1, ...).
 */
export function parseClusterArn(value: string, source: InputSource = 'clusterArn'): ClusterIdentity {
  const arn = value.trim()
  const m = CLUSTER_ARN_RE.exec(arn)
  if (!m) {
    throw invalidInput(source, value, 'not an EKS cluster ARN', {
      suggestions: [
        'Use the form arn:<partition>:eks:<region>:<12-digit account>:cluster/<name>, e.g. arn:aws:eks:us-east-1:111122223333:cluster/prod',
      ],
    })
  }

  const [, partition, region, accountId, name] = m as unknown as [string, string, string, string, string]
  return {arn, partition, region, accountId, name}
}

/** The cluster ARN is required by every command that names files. */
export function requireCluster(cluster: ClusterIdentity | undefined): ClusterIdentity {
  if (cluster) return cluster
  throw new ConfigError(`Missing ${setting('clusterArn')}: the EKS cluster ARN names the files and their partitions`, {
    suggestions: [
      `Pass ${flag('clusterArn')} arn:aws:eks:<region>:<account>:cluster/<name>, or set ${envVar('clusterArn')}.`,
    ],
  })
}
