/**
 * A fake Kubecost cost-analyzer over real HTTP (or HTTPS): serves /model/allocation and /model/assets
 * from the deterministic data in kubecost-data.ts, records every request, and injects faults.
 *
 * Behaviour:
 * - `days` lists the days that have data; other days come back as empty sets `{}`.
 * - `aggregate=cluster` answers one set per day of the window (the availability call); any other
 *   aggregate answers the container-level allocations of the window's first day.
 * - /model/assets honours `filterTypes=Node` unless `ignoreAssetFilter` is set.
 * - A fault applies to requests matching its `api` (allocation | availability | assets) and `day`,
 *   `times` times (default: always), and replaces the normal answer.
 */
import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {createReadStream} from 'node:fs'
import type {AddressInfo, Socket} from 'node:net'
import {pipeline} from 'node:stream/promises'

import {clusterAggregate, dayAllocations, dayAssets} from './kubecost-data.js'

export type FaultKind =
  | 'html-504'
  | 'text-400'
  | 'status-503'
  | 'status'
  | 'not-json'
  | 'truncate'
  | 'reset'
  | 'reset-mid-body'
  | 'stall-headers'
  | 'stall-body'
  | 'empty-sets'
  | 'error-envelope'

export type FakeApi = 'allocation' | 'availability' | 'assets'

export interface Fault {
  kind: FaultKind
  /** For `status`: the HTTP status to answer with. */
  status?: number
  api?: FakeApi
  day?: string
  times?: number
}

export interface FakeKubecostOptions {
  cluster?: string
  days: readonly string[]
  containersPerDay?: number
  ignoreAssetFilter?: boolean
  tls?: {key: string; cert: string}
  /** Entries per write, for large days. */
  chunkEntries?: number
  /** Pre-rendered Allocation API bodies by day (files), served as they are: for benchmarks. */
  allocationBodies?: Record<string, string>
}

export interface RecordedRequest {
  path: string
  params: Record<string, string>
  api: FakeApi | 'other'
  /** Only when the request carried one. */
  authorization?: string
}

export class FakeKubecost {
  readonly requests: RecordedRequest[] = []
  readonly faults: Fault[] = []
  readonly cluster: string
  readonly containersPerDay: number
  private readonly sockets = new Set<Socket>()
  private readonly aggregates = new Map<string, ReturnType<typeof clusterAggregate>>()

  private constructor(
    private readonly server: Server,
    private readonly options: FakeKubecostOptions,
    readonly url: string,
  ) {
    this.cluster = options.cluster ?? 'prod'
    this.containersPerDay = options.containersPerDay ?? 40
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  static async start(options: FakeKubecostOptions, port = 0): Promise<FakeKubecost> {
    const server = options.tls ? createHttpsServer(options.tls) : createHttpServer()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    const {port: bound} = server.address() as AddressInfo
    const fake = new FakeKubecost(server, options, `${options.tls ? 'https' : 'http'}://127.0.0.1:${bound}`)
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((error: unknown) => res.destroy(error as Error))
    })
    return fake
  }

  addFault(fault: Fault): this {
    this.faults.push(fault)
    return this
  }

  get dataOptions() {
    return {cluster: this.cluster, containers: this.containersPerDay}
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private aggregate(day: string) {
    let aggregate = this.aggregates.get(day)
    if (!aggregate) {
      aggregate = clusterAggregate(day, this.dataOptions)
      this.aggregates.set(day, aggregate)
    }

    return aggregate
  }

  private takeFault(api: FakeApi, day: string): Fault | undefined {
    const fault = this.faults.find((f) => (f.api === undefined || f.api === api) && (f.day === undefined || f.day === day) && f.times !== 0)
    if (fault?.times !== undefined) fault.times--
    return fault
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const params = Object.fromEntries(url.searchParams)
    const [start = '', end = ''] = (params.window ?? '').split(',')
    const firstDay = start.slice(0, 10)
    let api: RecordedRequest['api'] = 'other'
    // Behind an ingress, Kubecost may live under a path prefix.
    if (url.pathname.endsWith('/model/allocation')) api = params.aggregate === 'cluster' ? 'availability' : 'allocation'
    else if (url.pathname.endsWith('/model/assets')) api = 'assets'
    const {authorization} = req.headers
    this.requests.push({path: url.pathname, params, api, ...(authorization ? {authorization} : {})})

    if (api === 'other') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('404 page not found')
      return
    }

    const fault = this.takeFault(api, firstDay)
    if (fault && (await this.serveFault(fault, res))) return

    const days = daysOfWindow(start, end)
    if (api === 'availability') {
      const sets = days.map((d) => (this.options.days.includes(d) ? {[this.cluster]: this.aggregate(d)} : {}))
      json(res, {code: 200, data: sets})
      return
    }

    if (api === 'assets') {
      const assets = this.options.days.includes(firstDay)
        ? dayAssets(firstDay, {cluster: this.cluster, includeNonNodes: this.options.ignoreAssetFilter === true || params.filterTypes !== 'Node'})
        : {}
      json(res, {code: 200, data: [assets]})
      return
    }

    const empty = fault?.kind === 'empty-sets' || !this.options.days.includes(firstDay)
    const body = this.options.allocationBodies?.[firstDay]
    if (body && !empty) {
      res.writeHead(200, {'content-type': 'application/json'})
      await pipeline(createReadStream(body), res)
      return
    }

    await this.streamAllocations(res, empty ? [] : dayAllocations(firstDay, this.dataOptions))
  }

  /** Streams `{"code":200,"data":[{...}]}` entry by entry, honouring back-pressure. */
  private async streamAllocations(res: ServerResponse, allocations: Iterable<{name: string}>): Promise<void> {
    res.writeHead(200, {'content-type': 'application/json'})
    const chunk = this.options.chunkEntries ?? 500
    let buffer = '{"code":200,"status":"success","data":[{'
    let first = true
    let count = 0
    for (const allocation of allocations) {
      buffer += `${first ? '' : ','}${JSON.stringify(allocation.name)}:${JSON.stringify(allocation)}`
      first = false
      if (++count % chunk === 0) {
        if (!res.write(buffer)) await new Promise((resolve) => res.once('drain', resolve))
        buffer = ''
      }
    }

    res.end(`${buffer}}]}`)
  }

  private async serveFault(fault: Fault, res: ServerResponse): Promise<boolean> {
    switch (fault.kind) {
      case 'html-504': {
        res.writeHead(504, {'content-type': 'text/html'})
        res.end('<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>')
        return true
      }

      case 'text-400': {
        res.writeHead(400, {'content-type': 'text/plain'}).end('error parsing window (bogus): illegal window')
        return true
      }

      case 'status-503': {
        res.writeHead(503, {'content-type': 'text/plain'}).end('service unavailable')
        return true
      }

      case 'status': {
        res.writeHead(fault.status ?? 500, {'content-type': 'text/plain'}).end(`status ${fault.status ?? 500} from the fake`)
        return true
      }

      case 'not-json': {
        res.writeHead(200, {'content-type': 'text/html'}).end('<!DOCTYPE html><html><body>Kubecost login</body></html>')
        return true
      }

      case 'error-envelope': {
        json(res, {code: 500, status: 'error', message: 'Error: failed to query Prometheus'})
        return true
      }

      case 'truncate': {
        // A complete HTTP response whose JSON stops early (e.g. a proxy's buffer limit).
        res.writeHead(200, {'content-type': 'application/json'})
        res.end('{"code":200,"data":[{"a/b/c":{"name":"a/b/c","properties":{"cluster":"')
        return true
      }

      case 'reset-mid-body': {
        // Some allocations, then the connection drops.
        res.writeHead(200, {'content-type': 'application/json'})
        const [first] = dayAllocations(firstDayOf(res), this.dataOptions)
        res.write(`{"code":200,"data":[{${JSON.stringify(first?.name)}:${JSON.stringify(first)},`)
        setTimeout(() => res.socket?.resetAndDestroy(), 20)
        return true
      }

      case 'reset': {
        res.socket?.resetAndDestroy()
        return true
      }

      case 'stall-headers': {
        // never answer; close() destroys the socket
        return true
      }

      case 'stall-body': {
        res.writeHead(200, {'content-type': 'application/json'})
        res.write('{"code":200,"data":[{')
        return true
      }

      case 'empty-sets': {
        return false
      }
    }
  }
}

function firstDayOf(res: ServerResponse): string {
  const window = new URL(res.req.url ?? '/', 'http://fake').searchParams.get('window') ?? ''
  return window.slice(0, 10)
}

function json(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)}).end(text)
}

function daysOfWindow(start: string, end: string): string[] {
  const days: string[] = []
  const from = Date.parse(start)
  const to = Date.parse(end)
  if (Number.isNaN(from) || Number.isNaN(to)) return days
  for (let t = from; t < to; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10))
  return days
}
