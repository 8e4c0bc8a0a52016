import {envVar, flag, setting} from '../settings.js'

/**
 * Where cost data comes from: Kubecost's cost-analyzer, or OpenCost (the CNCF project Kubecost is
 * built on). Both answer the same two questions (allocations per step, assets of a window) in
 * envelopes the splitter reads alike, under different paths and parameter names.
 *
 * Export and back-fill speak one query, Kubecost's, as the SPEC defines it; a source maps that
 * query onto its own API, so the collection code stays the same for both and every Kubecost
 * parameter has exactly one OpenCost meaning, decided here.
 *
 * This module is loaded by the flags, so it never imports the HTTP stack.
 */

export type KubecostApi = 'allocation' | 'assets'

export const SOURCES = ['kubecost', 'opencost'] as const
export type SourceName = (typeof SOURCES)[number]

export interface SourceHints {
  /** The connection was refused. */
  refused: string
  /** HTTP 404. */
  notFound: string
  /** HTTP 400. */
  badRequest: string
  /** HTTP 5xx. */
  serverError: string
  /** The body is not JSON, or not the envelope. */
  notTheApi: string
  /** A redirect elsewhere: the address that answers directly. */
  direct: string
}

export interface CostSource {
  readonly name: SourceName
  /** The product, as messages name it. */
  readonly product: string
  /** `--kubecost-url` when neither it nor KUBECOST_API_ENDPOINT is set. */
  readonly defaultUrl: string
  /** Appended to the URL's path. */
  readonly paths: Readonly<Record<KubecostApi, string>>
  /** What to do about failures whose advice depends on the product (service names, ports, paths). */
  readonly hints: Readonly<SourceHints>
  /** The query string for `api`, given the Kubecost query of the SPEC. */
  params(api: KubecostApi, kubecost: Readonly<Record<string, string>>): Record<string, string>
}

export const KUBECOST: CostSource = {
  name: 'kubecost',
  product: 'Kubecost',
  defaultUrl: 'http://kubecost-cost-analyzer.kubecost:9090',
  paths: {allocation: '/model/allocation', assets: '/model/assets'},
  hints: {
    refused: `Check ${setting('kubecostUrl')}: the service name carries the Helm release prefix (e.g. kubecost-cost-analyzer.<namespace>:9090) and the port is usually 9090.`,
    notFound: `Check ${setting('kubecostUrl')}: it should be the cost-analyzer service root, without /model.`,
    badRequest: `Kubecost rejected the query; check ${flag('aggregation')} and the Kubecost version.`,
    serverError: "Kubecost or a proxy in front of it failed; check the cost-analyzer pod's logs and retry later.",
    notTheApi: `Check that ${flag('kubecostUrl')} points at the Kubecost API (http vs https, port 9090) and not at a login page or an authenticating proxy.`,
    direct: 'the in-cluster cost-analyzer service (e.g. http://kubecost-cost-analyzer.kubecost:9090)',
  },
  params: (_api, kubecost) => ({...kubecost}),
}

/**
 * OpenCost's `/allocation/compute` (pkg/costmodel/aggregation.go, ComputeAllocationHandler) reads
 * `window`, `resolution`, `step`, `aggregate`, `includeIdle`, `accumulate`, `accumulateBy`,
 * `idleByNode`, `sharelb`, `includeProportionalAssetResourceCosts`, `includeAggregatedMetadata` and
 * `shareIdle`, and ignores the rest. Kubecost's `idle` is OpenCost's `includeIdle`; Kubecost's
 * `splitIdle` (one idle row per cluster or node instead of one in all) is what OpenCost does anyway
 * (idle per cluster, per node with `idleByNode`); tenancy costs do not exist in OpenCost. Idle is
 * kept as rows of its own (`shareIdle=false`, said explicitly), as the SPEC wants.
 */
const OPENCOST_ALLOCATION: Readonly<Record<string, string | null>> = {
  idle: 'includeIdle',
  splitIdle: null,
  shareTenancyCosts: null,
}

/**
 * OpenCost's `/assets` (pkg/costmodel/handlers.go, ComputeAssetsHandler) reads `window` and the
 * filter language's `filter` only: one AssetSet for the whole window, so nothing to accumulate, and
 * `assetType:"node"` in place of Kubecost's legacy `filterTypes=Node`. Versions whose `/assets` has no
 * `filter` ignore it; the node index keeps only `type: Node` entries whatever the server did.
 */
function openCostAssets(kubecost: Readonly<Record<string, string>>): Record<string, string> {
  const params: Record<string, string> = {}
  for (const [key, value] of Object.entries(kubecost)) {
    if (key === 'accumulate') continue
    if (key === 'filterTypes') {
      if (value.toLowerCase() === 'node') params.filter = 'assetType:"node"'
      continue
    }

    params[key] = value
  }

  return params
}

export const OPENCOST: CostSource = {
  name: 'opencost',
  product: 'OpenCost',
  defaultUrl: 'http://opencost.opencost:9003',
  // The API port of the opencost container; behind its UI (port 9090) the same paths sit under /model.
  paths: {allocation: '/allocation/compute', assets: '/assets'},
  hints: {
    refused: `Check ${setting('kubecostUrl')}: OpenCost answers on its API port, usually 9003 (e.g. http://opencost.<namespace>:9003).`,
    notFound: `Check ${setting('kubecostUrl')}: it should be the OpenCost API root on port 9003 (without /allocation), or the UI on port 9090 followed by /model; and that the server is OpenCost (${flag('source')} opencost, ${envVar('source')}).`,
    badRequest: `OpenCost rejected the query; check ${flag('aggregation')} and the OpenCost version.`,
    serverError:
      "OpenCost or a proxy in front of it failed (often its Prometheus query); check the opencost pod's logs and retry later.",
    notTheApi: `Check that ${flag('kubecostUrl')} points at the OpenCost API (http vs https, port 9003) and not at its UI without /model, a login page or an authenticating proxy.`,
    direct: 'the in-cluster OpenCost service (e.g. http://opencost.opencost:9003)',
  },
  params(api, kubecost) {
    if (api === 'assets') return openCostAssets(kubecost)
    const params: Record<string, string> = {}
    for (const [key, value] of Object.entries(kubecost)) {
      const renamed = key in OPENCOST_ALLOCATION ? OPENCOST_ALLOCATION[key] : key
      if (renamed) params[renamed] = value
    }

    if (params.includeIdle === 'true') params.shareIdle = 'false'
    return params
  },
}

export function costSource(name: SourceName): CostSource {
  return name === 'opencost' ? OPENCOST : KUBECOST
}

/** The URL to call: the one configured (--kubecost-url, KUBECOST_API_ENDPOINT), else the source's in-cluster default. */
export function sourceUrl(source: CostSource, configured: string | undefined): string {
  return configured === undefined || configured === '' ? source.defaultUrl : configured
}
