import {type Day, windowParam} from '../dates.js'

export const AGGREGATIONS = [
  'container',
  'pod',
  'namespace',
  'controller',
  'controllerKind',
  'node',
  'cluster',
] as const
export type Aggregation = (typeof AGGREGATIONS)[number]

/**
 * The explicit `aggregate` sent for each aggregation level. Kubecost 2.x answers a request without
 * `aggregate` with namespace-level data and empty properties, so even `container` is spelled out,
 * and every level keeps the properties it can carry (cluster, node, namespace...) filled in.
 */
export const AGGREGATE_CHAINS: Record<Aggregation, string> = {
  container: 'cluster,node,namespace,controllerKind,controller,pod,container',
  pod: 'cluster,node,namespace,controllerKind,controller,pod',
  controller: 'cluster,namespace,controllerKind,controller',
  controllerKind: 'cluster,controllerKind',
  namespace: 'cluster,namespace',
  node: 'cluster,node',
  cluster: 'cluster',
}

/** One Allocation call over the whole candidate range, one set per day, to learn which days Kubecost has. */
export function availabilityParams(first: Day, last: Day): Record<string, string> {
  return {
    window: windowParam(first, last),
    aggregate: 'cluster',
    step: '1d',
    accumulate: 'false',
  }
}

/** The Allocation call that collects one day. */
export function allocationParams(day: Day, aggregation: Aggregation): Record<string, string> {
  return {
    window: windowParam(day),
    aggregate: AGGREGATE_CHAINS[aggregation],
    step: '1d',
    accumulate: 'false',
    idle: 'true',
    splitIdle: 'true',
    idleByNode: 'true',
    shareTenancyCosts: 'true',
  }
}

/**
 * The Assets call for one day's nodes. Only the legacy `filterTypes` is sent: combining it with the
 * 2.x `filter` language is not accepted everywhere, and the client keeps only `type: Node` entries
 * whatever the server did with the filter.
 */
export function assetsParams(day: Day): Record<string, string> {
  return {
    window: windowParam(day),
    accumulate: 'true',
    filterTypes: 'Node',
  }
}
