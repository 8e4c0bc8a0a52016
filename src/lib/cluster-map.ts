import {type ClusterIdentity, parseClusterArn} from './cluster.js'
import {ConfigError, InvalidInputError} from './errors.js'
import {Layout} from './layout.js'
import {type InputName, splitList} from './validate.js'
import {setting} from './settings.js'

/** One federated cluster: what Kubecost calls it (`properties.cluster`), and the EKS cluster its files belong to. */
export interface ClusterMapping {
  kubecostCluster: string
  cluster: ClusterIdentity
}

const EXAMPLE = 'cluster-one=arn:aws:eks:us-east-1:111122223333:cluster/prod'

/**
 * A Kubecost cluster id goes into Kubecost's filter language as a quoted value and into a
 * comma-separated list: quotes, backslashes, commas and control characters would break either.
 */
const UNSAFE_ID = /["\\,\p{Cc}]/u

/** `<kubecost cluster id>=<EKS cluster ARN>`; the ARN's own text never holds `=`, so the last one splits. */
export function parseClusterMapping(entry: string, name: InputName, where = ''): ClusterMapping {
  const at = entry.lastIndexOf('=')
  const id = at === -1 ? '' : entry.slice(0, at).trim()
  const arn = at === -1 ? '' : entry.slice(at + 1).trim()
  if (at === -1 || id === '' || arn === '') {
    throw new InvalidInputError(
      name.flag,
      name.env,
      entry,
      `${where}expected <kubecost cluster id>=<EKS cluster ARN>`,
      {
        suggestions: [`For example ${EXAMPLE}; the id is properties.cluster as Kubecost reports it.`],
      },
    )
  }

  if (UNSAFE_ID.test(id)) {
    throw new InvalidInputError(
      name.flag,
      name.env,
      entry,
      `${where}the Kubecost cluster id ${JSON.stringify(id)} contains a quote, backslash, comma or control character`,
    )
  }

  const cluster = (() => {
    try {
      return parseClusterArn(arn, name)
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error
      throw new InvalidInputError(
        name.flag,
        name.env,
        entry,
        `${where}${JSON.stringify(arn)} is not an EKS cluster ARN`,
        {
          suggestions: error.suggestions,
        },
      )
    }
  })()
  return {kubecostCluster: id, cluster}
}

/** A comma-separated list of mappings (the form an environment variable holds). */
export function parseClusterMapList(input: string, name: InputName): ClusterMapping[] {
  const entries = splitList(input)
  if (entries.length === 0) throw new InvalidInputError(name.flag, name.env, input, 'no mapping given')
  return entries.map(e => parseClusterMapping(e, name))
}

/** A map file: one mapping a line; blank lines and `#` comments are ignored. */
export function parseClusterMapFile(text: string, path: string, name: InputName): ClusterMapping[] {
  const mappings: ClusterMapping[] = []
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(?:^|\s)#.*$/, '').trim()
    if (line !== '') mappings.push(parseClusterMapping(line, name, `${path} line ${i + 1}: `))
  }

  if (mappings.length === 0) {
    throw new InvalidInputError(name.flag, name.env, path, 'the file holds no mapping', {
      suggestions: [`Write one mapping a line, e.g. ${EXAMPLE}`],
    })
  }

  return mappings
}

/**
 * The whole map, from flags, environment and file together. One Kubecost cluster mapped twice, or
 * two mapped to one ARN, or to ARNs whose files have one key (two clusters' rows would overwrite
 * each other's file), is refused.
 */
export function checkClusterMap(mappings: readonly ClusterMapping[]): ClusterMapping[] {
  const byId = new Map<string, ClusterMapping>()
  const byArn = new Map<string, ClusterMapping>()
  const byKey = new Map<string, ClusterMapping>()
  for (const mapping of mappings) {
    const same = byId.get(mapping.kubecostCluster)
    if (same) {
      if (same.cluster.arn === mapping.cluster.arn) continue
      throw new ConfigError(
        `Kubecost cluster ${JSON.stringify(mapping.kubecostCluster)} is mapped twice, to ${same.cluster.arn} and ${mapping.cluster.arn}`,
        {
          suggestions: [
            `Map each Kubecost cluster id to exactly one EKS cluster ARN (${setting('clusterMap')}, ${setting('clusterMapFile')}).`,
          ],
        },
      )
    }

    const sameArn = byArn.get(mapping.cluster.arn)
    if (sameArn) {
      throw new ConfigError(
        `Kubecost clusters ${JSON.stringify(sameArn.kubecostCluster)} and ${JSON.stringify(mapping.kubecostCluster)} are both mapped to ${mapping.cluster.arn}: their files would overwrite each other`,
        {suggestions: ['Map each Kubecost cluster id to its own EKS cluster ARN.']},
      )
    }

    // The key holds the account, the region and the name: of the ARN, only the partition is left out.
    const key = new Layout(mapping.cluster).keyPattern
    const sameKey = byKey.get(key)
    if (sameKey) {
      const entry = (m: ClusterMapping) => `${m.kubecostCluster}=${m.cluster.arn}`
      throw new ConfigError(
        `The cluster map entries ${entry(sameKey)} and ${entry(mapping)} differ only in their partition (${sameKey.cluster.partition}, ${mapping.cluster.partition}), which the files' keys do not hold: both clusters' files would be ${key}, each overwriting the other's`,
        {
          suggestions: [
            `Map each Kubecost cluster id to the ARN of its own EKS cluster (${setting('clusterMap')}, ${setting('clusterMapFile')}); two clusters of one account and region have two names.`,
          ],
        },
      )
    }

    byId.set(mapping.kubecostCluster, mapping)
    byArn.set(mapping.cluster.arn, mapping)
    byKey.set(key, mapping)
  }

  return [...byId.values()]
}

/**
 * Kubecost's filter language, `cluster:"a","b"`. A server that does not know the parameter ignores
 * it and answers every cluster: the rows are sorted by `properties.cluster` here either way.
 */
export function clusterFilter(ids: Iterable<string>): string {
  return `cluster:${[...ids].map(id => JSON.stringify(id)).join(',')}`
}
