/**
 * A fake OpenCost (the opencost container's API port) over real HTTP: `/allocation/compute` and
 * `/assets`, in OpenCost's parameter names and shapes, from the deterministic data of
 * kubecost-data.ts. It behaves like OpenCost's handlers (pkg/costmodel/aggregation.go
 * ComputeAllocationHandler, handlers.go ComputeAssetsHandler), not like Kubecost:
 *
 * - Paths are served at the root, or under /model as OpenCost's UI proxies them; others are 404.
 * - Parameters it does not know are ignored, as OpenCost ignores them; `window` must be an RFC 3339
 *   `start,end` pair, else a plain-text 400 "Invalid 'window' parameter: ..." (http.Error).
 * - `aggregate=cluster` answers one set per `step` (the availability call): `{<cluster>: {...}}` for
 *   the days in `days`, `{}` for the others; any other aggregate answers the window's first day.
 * - Idle rows come only with `includeIdle=true`: one per node with `idleByNode=true`, else one per
 *   cluster (`<cluster>/__idle__`); `shareIdle=true` folds idle into the other rows instead. So a
 *   request in Kubecost's names (`idle=true`) gets no idle rows, as from the real server.
 * - Allocations carry what OpenCost's AllocationJSON writes: `null` for NaN or infinite numbers
 *   (efficiencies of allocations without requests), `gpuAllocation` (null, or an object),
 *   `lbAllocations: null`, `proportionalAssetResourceCosts: {}`, the `*CostIdle` fields; no
 *   `rawAllocationOnly`.
 * - `/assets` answers one AssetSet, `data` a single object keyed by asset path, node labels
 *   without the `label_` prefix (Prometheus' prefix is stripped by OpenCost); `filter=assetType:"node"`
 *   keeps only nodes, without it a Disk comes too.
 * - Faults, per api (allocation | availability | assets), day and count: `text-400` (the bad-window
 *   answer), `error-500` (WriteError: HTTP 500, `{"code":500,"status":"","data":null,"message":"Error: ..."}`),
 *   `error-envelope` (WrapData with an error: HTTP 200, `code` 500 and a `message`), `text-500`
 *   (the assets handler's http.Error), `empty-sets` (every set `{}`).
 * - `allocationBodies` serves a recorded response (a file's text) for a day's allocation call.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {type Allocation, clusterAggregate, dayAllocations, dayAssets} from './kubecost-data.js'

export type OpenCostFaultKind = 'text-400' | 'error-500' | 'error-envelope' | 'text-500' | 'empty-sets'
export type OpenCostApi = 'allocation' | 'availability' | 'assets'

export interface OpenCostFault {
  kind: OpenCostFaultKind
  message?: string
  api?: OpenCostApi
  day?: string
  times?: number
}

export interface FakeOpenCostOptions {
  cluster?: string
  days: readonly string[]
  containersPerDay?: number
  /** Recorded Allocation API bodies by day, served as they are. */
  allocationBodies?: Record<string, string>
}

export interface OpenCostRequest {
  path: string
  params: Record<string, string>
  api: OpenCostApi | 'other'
}

export interface OpenCostQuery {
  includeIdle: boolean
  idleByNode: boolean
  shareIdle: boolean
}

const IDLE_FIELDS = ['cpuCost', 'ramCost', 'gpuCost', 'totalCost', 'cpuCoreHours', 'ramByteHours'] as const

/**
 * One day's allocations as OpenCost answers the collection query: the Kubecost fake's containers and
 * unmounted row in OpenCost's shape, with idle as `query` asks for it.
 */
export function openCostAllocations(
  day: string,
  options: {cluster: string; containers: number},
  query: OpenCostQuery,
): Allocation[] {
  const out: Allocation[] = []
  const idle: Allocation[] = []
  let i = 0
  for (const kubecost of dayAllocations(day, options)) {
    // OpenCost omits rawAllocationOnly when empty.
    const allocation: Allocation = {...kubecost}
    delete allocation.rawAllocationOnly
    const opencost: Allocation = {
      ...allocation,
      cpuCostIdle: 0,
      gpuCostIdle: 0,
      ramCostIdle: 0,
      gpuRequestAverage: 0,
      gpuUsageAverage: 0,
      gpuEfficiency: 0,
      proportionalAssetResourceCosts: {},
      lbAllocations: null,
      sharedCostBreakdown: {},
      // Newer OpenCost versions write GPU details, older ones null.
      gpuAllocation:
        i % 6 === 1
          ? {gpuDevice: 'nvidia0', gpuModel: 'Tesla T4', gpuUUID: `GPU-${i}`, isGPUShared: null, gpuUsageAverage: null}
          : null,
    }
    // NaN in OpenCost (no requests, so no efficiency) is written as null.
    if (i % 7 === 2) Object.assign(opencost, {cpuEfficiency: null, ramEfficiency: null, totalEfficiency: null})
    if (i % 9 === 4) opencost.loadBalancerCost = null
    i++
    if (allocation.name.endsWith('/__idle__')) idle.push(opencost)
    else out.push(opencost)
  }

  if (!query.includeIdle || query.shareIdle) return out
  if (query.idleByNode) return [...out, ...idle]
  const merged: Allocation = {...(idle[0] as Allocation), name: `${options.cluster}/__idle__`}
  merged.properties = {cluster: options.cluster}
  for (const field of IDLE_FIELDS) {
    merged[field] = idle.reduce((sum, a) => sum + (typeof a[field] === 'number' ? a[field] : 0), 0)
  }

  return [...out, merged]
}

/** The day's nodes (and, unfiltered, a Disk) as OpenCost's /assets keys and shapes them. */
export function openCostAssets(day: string, options: {cluster: string; nodesOnly: boolean}): Record<string, unknown> {
  const assets = dayAssets(day, {cluster: options.cluster, includeNonNodes: !options.nodesOnly})
  for (const asset of Object.values(assets) as Array<{labels?: Record<string, string>}>) {
    if (!asset.labels) continue
    asset.labels = Object.fromEntries(
      Object.entries(asset.labels).map(([k, v]) => [k.startsWith('label_') ? k.slice('label_'.length) : k, v]),
    )
  }

  return assets
}

export class FakeOpenCost {
  readonly requests: OpenCostRequest[] = []
  readonly faults: OpenCostFault[] = []
  readonly cluster: string
  readonly containersPerDay: number
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    private readonly options: FakeOpenCostOptions,
    readonly url: string,
  ) {
    this.cluster = options.cluster ?? 'default-cluster'
    this.containersPerDay = options.containersPerDay ?? 30
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  static async start(options: FakeOpenCostOptions): Promise<FakeOpenCost> {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as AddressInfo
    const fake = new FakeOpenCost(server, options, `http://127.0.0.1:${port}`)
    server.on('request', (req: IncomingMessage, res: ServerResponse) => fake.handle(req, res))
    return fake
  }

  get dataOptions() {
    return {cluster: this.cluster, containers: this.containersPerDay}
  }

  addFault(fault: OpenCostFault): this {
    this.faults.push(fault)
    return this
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private takeFault(api: OpenCostApi, day: string): OpenCostFault | undefined {
    const fault = this.faults.find(
      f => (f.api === undefined || f.api === api) && (f.day === undefined || f.day === day) && f.times !== 0,
    )
    if (fault?.times !== undefined) fault.times--
    return fault
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake')
    const params = Object.fromEntries(url.searchParams)
    let api: OpenCostRequest['api'] = 'other'
    // The API port serves at its root; the UI in front of it proxies the same paths under /model.
    const path = url.pathname.replace(/^\/model(?=\/)/, '')
    if (path === '/allocation/compute') api = params.aggregate === 'cluster' ? 'availability' : 'allocation'
    else if (path === '/assets') api = 'assets'
    this.requests.push({path: url.pathname, params, api})
    if (api === 'other') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('404 page not found')
      return
    }

    const window = parseWindow(params.window ?? '')
    if (!window) {
      res
        .writeHead(400, {'content-type': 'text/plain; charset=utf-8'})
        .end(`Invalid 'window' parameter: illegal window: ${params.window ?? ''}\n`)
      return
    }

    const day = window.start.toISOString().slice(0, 10)
    const fault = this.takeFault(api, day)
    if (fault && fault.kind !== 'empty-sets') {
      serveFault(fault, res)
      return
    }

    if (api === 'assets') {
      const assets = this.options.days.includes(day)
        ? openCostAssets(day, {cluster: this.cluster, nodesOnly: params.filter === 'assetType:"node"'})
        : {}
      json(res, {code: 200, status: 'success', data: assets})
      return
    }

    const stepMs = parseStep(params.step) ?? window.end.getTime() - window.start.getTime()
    if (api === 'availability') {
      const sets: unknown[] = []
      for (let t = window.start.getTime(); t < window.end.getTime(); t += stepMs) {
        const d = new Date(t).toISOString().slice(0, 10)
        sets.push(
          this.options.days.includes(d) && fault === undefined
            ? {[this.cluster]: clusterAggregate(d, this.dataOptions)}
            : {},
        )
      }

      json(res, {code: 200, status: 'success', data: sets})
      return
    }

    const recorded = this.options.allocationBodies?.[day]
    if (recorded !== undefined && fault === undefined) {
      res.writeHead(200, {'content-type': 'application/json'}).end(recorded)
      return
    }

    const allocations =
      fault === undefined && this.options.days.includes(day)
        ? openCostAllocations(day, this.dataOptions, {
            includeIdle: params.includeIdle === 'true',
            idleByNode: params.idleByNode === 'true',
            shareIdle: params.shareIdle === 'true',
          })
        : []
    json(res, {code: 200, status: 'success', data: [Object.fromEntries(allocations.map(a => [a.name, a]))]})
  }
}

function serveFault(fault: OpenCostFault, res: ServerResponse): void {
  switch (fault.kind) {
    case 'text-400': {
      res
        .writeHead(400, {'content-type': 'text/plain; charset=utf-8'})
        .end(`Invalid 'window' parameter: ${fault.message ?? 'illegal window'}\n`)
      return
    }

    case 'error-500': {
      const body = JSON.stringify({
        code: 500,
        status: '',
        data: null,
        message: `Error: ${fault.message ?? 'error computing allocation'}`,
      })
      res.writeHead(500, {'content-type': 'application/json'}).end(body)
      return
    }

    case 'error-envelope': {
      json(res, {code: 500, status: 'error', data: null, message: fault.message ?? 'error computing asset set'})
      return
    }

    case 'text-500': {
      res
        .writeHead(500, {'content-type': 'text/plain; charset=utf-8'})
        .end(`Error getting assets: ${fault.message ?? 'error computing asset set'}\n`)
      return
    }

    case 'empty-sets': {
      return
    }
  }
}

/** OpenCost accepts more forms (`7d`, `lastweek`, unix pairs); the exporter sends only RFC 3339 pairs. */
function parseWindow(text: string): {start: Date; end: Date} | undefined {
  const [start, end, extra] = text.split(',')
  if (start === undefined || end === undefined || extra !== undefined) return undefined
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
  if (!rfc3339.test(start) || !rfc3339.test(end)) return undefined
  const window = {start: new Date(start), end: new Date(end)}
  return window.end > window.start ? window : undefined
}

function parseStep(text: string | undefined): number | undefined {
  const m = /^(\d+)([hd])$/.exec(text ?? '')
  if (!m) return undefined
  return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000)
}

function json(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)}).end(text)
}
