/** A federated Kubecost primary split into one file per cluster: the mode and the cluster map. */
import {readFile} from 'node:fs/promises'

import {Flags} from '@oclif/core'

import type {ClusterIdentity} from '../lib/cluster.js'
import {type ClusterMapping, checkClusterMap, parseClusterMapFile, parseClusterMapList} from '../lib/cluster-map.js'
import {ConfigError, InvalidInputError} from '../lib/errors.js'
import {parseBoolean} from '../lib/validate.js'
import {inGroup, input, repeatable} from './common.js'

const MAP_FILE = {flag: 'cluster-map-file', env: 'CLUSTER_MAP_FILE'}

export const splitFlags = inGroup('CLUSTERS', {
  'split-by-cluster': Flags.boolean({
    env: 'SPLIT_BY_CLUSTER',
    default: false,
    description:
      'Kubecost is a federated primary holding many clusters: write one file per cluster per day, each at its mapped cluster ARN (needs --cluster-map or --cluster-map-file; replaces --cluster-arn)',
  }),
  'cluster-map': Flags.custom<ClusterMapping[]>({
    ...input({flag: 'cluster-map', env: 'CLUSTER_MAP'}, parseClusterMapList),
    ...repeatable,
    description:
      'with --split-by-cluster: <kubecost cluster id>=<EKS cluster ARN>; repeatable, or comma-separated (the env var holds a comma-separated list)',
  })(),
  'cluster-map-file': Flags.custom<ClusterMapping[]>({
    env: MAP_FILE.env,
    parse: async path => {
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
        throw new InvalidInputError(MAP_FILE.flag, MAP_FILE.env, path, `cannot be read (${code})`, {
          suggestions: ['Give the path of a readable file with one <kubecost cluster id>=<EKS cluster ARN> a line.'],
        })
      }

      return parseClusterMapFile(text, path, MAP_FILE)
    },
    description:
      'with --split-by-cluster: a file with one <kubecost cluster id>=<EKS cluster ARN> a line (# comments and blank lines ignored)',
  })(),
})

interface SplitFlagValues {
  'split-by-cluster': boolean
  'cluster-map'?: ClusterMapping[][] | ClusterMapping[]
  'cluster-map-file'?: ClusterMapping[]
  'cluster-arn'?: ClusterIdentity
}

/**
 * The cluster map in split mode, undefined otherwise. oclif reads a boolean's environment variable
 * loosely (a typo is false), so SPLIT_BY_CLUSTER is checked strictly; a map without the mode, the
 * mode without a map, or a --cluster-arn beside it is a configuration error, never a guess.
 */
export function resolveClusterMap(
  flags: SplitFlagValues,
  environment: Readonly<Record<string, string | undefined>>,
): ClusterMapping[] | undefined {
  const env = environment.SPLIT_BY_CLUSTER
  if (env !== undefined && env !== '') parseBoolean(env, {flag: 'split-by-cluster', env: 'SPLIT_BY_CLUSTER'})
  // One --cluster-map value is a list; from the environment oclif hands over that one list unwrapped.
  const given = [...(flags['cluster-map'] ?? []).flat(), ...(flags['cluster-map-file'] ?? [])]
  if (!flags['split-by-cluster']) {
    if (given.length === 0) return undefined
    throw new ConfigError(
      '--cluster-map and --cluster-map-file (CLUSTER_MAP, CLUSTER_MAP_FILE) need --split-by-cluster',
      {
        suggestions: ['Add --split-by-cluster (SPLIT_BY_CLUSTER=true) to export one file per mapped cluster.'],
      },
    )
  }

  if (flags['cluster-arn']) {
    throw new ConfigError(
      `--cluster-arn (CLUSTER_ID) ${flags['cluster-arn'].arn} names the one cluster of a single-cluster export; with --split-by-cluster each cluster's ARN comes from the cluster map`,
      {suggestions: ['Leave out --cluster-arn (unset CLUSTER_ID), or leave out --split-by-cluster.']},
    )
  }

  if (given.length === 0) {
    throw new ConfigError('--split-by-cluster needs a cluster map: which Kubecost cluster is which EKS cluster', {
      suggestions: [
        'Pass --cluster-map <kubecost cluster id>=<EKS cluster ARN> for each cluster, set CLUSTER_MAP to a comma-separated list of them, or give --cluster-map-file (CLUSTER_MAP_FILE).',
      ],
    })
  }

  return checkClusterMap(given)
}
