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
 * - Hostile answers: `trickle` (4 bytes every `intervalMs`, without end), `gzip-garbage` (plain JSON
 *   labelled `content-encoding: gzip`), `gzip-bomb` (a small gzip body whose one entry expands to
 *   `size` bytes), `huge-entry` (the day's allocations, the first padded to exactly `size` bytes),
 *   `redirect` (`status`, default 302, to `location`, where `{path}` stands for the request's path and
 *   query), `raw` (an HTTP response written by hand on the socket, so that `reason` and `body` may
 *   carry bytes Node's own writer refuses), and `error-envelope` with a chosen `message`.
 * - The server never compresses on its own: only `gzip-bomb` sends a compressed body.
 * - A federated primary: `clusters` maps each cluster to the days it has data (they replace `cluster`
 *   and `days`). Each cluster has the same node names but its own instance ids and types
 *   (`clusterNodes`). The availability call keys each day's set by cluster; Assets answers every
 *   cluster's nodes; Allocation answers the clusters named in `filter=cluster:"a","b"` (all without
 *   one), or every cluster with `ignoreClusterFilter` (a server that does not know the parameter).
 * - Request lines of any length are read; with `maxRequestLine`, a longer one is answered 414, as
 *   nginx in front of Kubecost does (its default buffer holds 8 KiB).
 */
import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {createReadStream} from 'node:fs'
import type {AddressInfo, Socket} from 'node:net'
import type {TlsOptions} from 'node:tls'
import {pipeline} from 'node:stream/promises'
import {createGzip} from 'node:zlib'

import {type DayDataOptions, clusterAggregate, clusterNodes, dayAllocations, dayAssets} from './kubecost-data.js'

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
  | 'trickle'
  | 'gzip-garbage'
  | 'gzip-bomb'
  | 'huge-entry'
  | 'redirect'
  | 'raw'

export type FakeApi = 'allocation' | 'availability' | 'assets'

export interface Fault {
  kind: FaultKind
  /** For `status`, `redirect` and `raw`: the HTTP status to answer with. */
  status?: number
  /** For `trickle`: the pause between writes (default 100 ms). */
  intervalMs?: number
  /** For `gzip-bomb` and `huge-entry`: the size of the one large entry, in bytes. */
  size?: number
  /** For `redirect`: the Location; `{path}` is replaced with the request's path and query. */
  location?: string
  /** For `raw`: the reason phrase; for `raw` and `error-envelope`: the body and message. */
  reason?: string
  body?: string
  message?: string
  api?: FakeApi
  day?: string
  times?: number
}

export interface FakeKubecostOptions {
  cluster?: string
  days: readonly string[]
  containersPerDay?: number
  ignoreAssetFilter?: boolean
  /** HTTPS with this key and certificate; the TLS versions and ciphers too when given (e.g. a TLS 1.1-only server). */
  tls?: {key: string; cert: string} & Pick<TlsOptions, 'minVersion' | 'maxVersion' | 'ciphers'>
  /** Entries per write, for large days. */
  chunkEntries?: number
  /** Pre-rendered Allocation API bodies by day (files), served as they are: for benchmarks. */
  allocationBodies?: Record<string, string>
  /** A federated primary: each cluster and the days it has data; replaces `cluster` and `days`. */
  clusters?: Record<string, readonly string[]>
  /** Answer every cluster whatever `filter` says, as a server that does not know the parameter. */
  ignoreClusterFilter?: boolean
  /** Allocations without providerID: the assets join falls back to cluster and node name. */
  withoutProviderId?: boolean
  /** Clusters the availability call reports but the collection leaves out (a federated cluster still being rebuilt). */
  omitFromAllocation?: readonly string[]
  /** Called as a pre-rendered allocation body starts to be sent: the benchmark times the client's work before it. */
  onAllocationBody?: (day: string) => void
  /** Answer 414 to a request whose request line (`GET <path?query> HTTP/1.1`) is longer than this. */
  maxRequestLine?: number
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
  /** The length of each request's request line (`GET <path?query> HTTP/1.1`), in the order of `requests`. */
  readonly requestLines: number[] = []
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
    // Node's own limit (16 KiB of request line and headers) would answer 431 first: `maxRequestLine` decides.
    const limits = {maxHeaderSize: 1 << 20}
    const server = options.tls ? createHttpsServer({...options.tls, ...limits}) : createHttpServer(limits)
    await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
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

  get dataOptions(): DayDataOptions {
    return this.dataOptionsOf(this.cluster)
  }

  /** The clusters served and the days each has: one (`cluster`, `days`) unless `clusters` is given. */
  get clusterDays(): ReadonlyArray<readonly [string, readonly string[]]> {
    return this.options.clusters ? Object.entries(this.options.clusters) : [[this.cluster, this.options.days]]
  }

  dataOptionsOf(cluster: string): DayDataOptions {
    const index = this.clusterDays.findIndex(([name]) => name === cluster)
    return {
      cluster,
      containers: this.containersPerDay,
      ...(this.options.clusters ? {nodes: clusterNodes(Math.max(0, index))} : {}),
      ...(this.options.withoutProviderId ? {withoutProviderId: true} : {}),
    }
  }

  /** The clusters that have data on `day`. */
  private clustersOn(day: string): string[] {
    return this.clusterDays.filter(([, days]) => days.includes(day)).map(([name]) => name)
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private aggregate(day: string, cluster = this.cluster) {
    let aggregate = this.aggregates.get(`${cluster}/${day}`)
    if (!aggregate) {
      aggregate = clusterAggregate(day, this.dataOptionsOf(cluster))
      this.aggregates.set(`${cluster}/${day}`, aggregate)
    }

    return aggregate
  }

  private takeFault(api: FakeApi, day: string): Fault | undefined {
    const fault = this.faults.find(
      f => (f.api === undefined || f.api === api) && (f.day === undefined || f.day === day) && f.times !== 0,
    )
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
    const requestLine = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`
    this.requests.push({path: url.pathname, params, api, ...(authorization ? {authorization} : {})})
    this.requestLines.push(requestLine.length)
    if (this.options.maxRequestLine !== undefined && requestLine.length > this.options.maxRequestLine) {
      res
        .writeHead(414, {'content-type': 'text/html'})
        .end(
          '<html><head><title>414 Request-URI Too Large</title></head><body><center><h1>414 Request-URI Too Large</h1></center><hr><center>nginx</center></body></html>',
        )
      return
    }

    if (api === 'other') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('404 page not found')
      return
    }

    const fault = this.takeFault(api, firstDay)
    if (fault && (await this.serveFault(fault, res))) return

    const days = daysOfWindow(start, end)
    if (api === 'availability') {
      const sets = days.map(d => Object.fromEntries(this.clustersOn(d).map(c => [c, this.aggregate(d, c)])))
      json(res, {code: 200, data: sets})
      return
    }

    if (api === 'assets') {
      const assets = Object.assign(
        {},
        ...this.clustersOn(firstDay).map(cluster =>
          dayAssets(firstDay, {
            cluster,
            includeNonNodes: this.options.ignoreAssetFilter === true || params.filterTypes !== 'Node',
            nodes: this.dataOptionsOf(cluster).nodes,
          }),
        ),
      ) as Record<string, unknown>
      json(res, {code: 200, data: [assets]})
      return
    }

    const wanted = this.options.ignoreClusterFilter ? undefined : clusterFilterOf(params.filter)
    const clusters = this.clustersOn(firstDay).filter(
      c => (wanted === undefined || wanted.includes(c)) && !this.options.omitFromAllocation?.includes(c),
    )
    const empty = fault?.kind === 'empty-sets' || clusters.length === 0
    const body = this.options.allocationBodies?.[firstDay]
    if (body && !empty) {
      res.writeHead(200, {'content-type': 'application/json'})
      this.options.onAllocationBody?.(firstDay)
      // A MiB per write: at the default 64 KiB, serving the benchmark's 180 MB day took this process
      // ~0.8 CPU-s of the machine the export is measured on (a real Kubecost runs elsewhere).
      await pipeline(createReadStream(body, {highWaterMark: 1 << 20}), res)
      return
    }

    const dataOptionsOf = (cluster: string) => this.dataOptionsOf(cluster)
    await this.streamAllocations(
      res,
      empty
        ? []
        : (function* () {
            for (const cluster of clusters) yield* dayAllocations(firstDay, dataOptionsOf(cluster))
          })(),
    )
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
        if (!res.write(buffer)) await new Promise(resolve => res.once('drain', resolve))
        buffer = ''
      }
    }

    res.end(`${buffer}}]}`)
  }

  /** The day's allocations with the first padded to exactly `size` bytes, written a MiB at a time. */
  private async streamHugeEntry(res: ServerResponse, day: string, size: number): Promise<void> {
    const [first, ...rest] = dayAllocations(day, this.dataOptions)
    const shell = JSON.stringify({...first, padding: ''})
    let padding = size - shell.length
    if (padding < 0) throw new Error(`huge-entry: size ${size} is below the allocation's own ${shell.length} bytes`)
    const write = async (text: string) => {
      if (!res.write(text)) await new Promise(resolve => res.once('drain', resolve))
    }

    res.writeHead(200, {'content-type': 'application/json'})
    await write(`{"code":200,"data":[{${JSON.stringify(first?.name)}:${shell.slice(0, -2)}`)
    const block = 'x'.repeat(1024 * 1024)
    while (padding > 0) {
      const n = Math.min(padding, block.length)
      await write(n === block.length ? block : block.slice(0, n))
      padding -= n
    }

    await write('"}')
    for (const allocation of rest) await write(`,${JSON.stringify(allocation.name)}:${JSON.stringify(allocation)}`)
    res.end('}]}')
  }

  private async serveFault(fault: Fault, res: ServerResponse): Promise<boolean> {
    switch (fault.kind) {
      case 'html-504': {
        res.writeHead(504, {'content-type': 'text/html'})
        res.end(
          '<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>',
        )
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
        res
          .writeHead(fault.status ?? 500, {'content-type': 'text/plain'})
          .end(`status ${fault.status ?? 500} from the fake`)
        return true
      }

      case 'not-json': {
        res.writeHead(200, {'content-type': 'text/html'}).end('<!DOCTYPE html><html><body>Kubecost login</body></html>')
        return true
      }

      case 'error-envelope': {
        json(res, {code: 500, status: 'error', message: fault.message ?? 'Error: failed to query Prometheus'})
        return true
      }

      case 'trickle': {
        res.writeHead(200, {'content-type': 'application/json'})
        res.write('{"code":200,"data":[{"a":{"name":"')
        const timer = setInterval(() => res.write('aaaa'), fault.intervalMs ?? 100)
        res.on('close', () => clearInterval(timer))
        return true
      }

      case 'gzip-garbage': {
        const text = '{"code":200,"data":[{}]}'
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            'content-length': text.length,
          })
          .end(text)
        return true
      }

      case 'gzip-bomb': {
        const body = await gzipBomb(fault.size ?? 100 * 1024 * 1024)
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            'content-length': body.length,
          })
          .end(body)
        return true
      }

      case 'huge-entry': {
        await this.streamHugeEntry(res, firstDayOf(res), fault.size ?? 65 * 1024 * 1024)
        return true
      }

      case 'redirect': {
        res
          .writeHead(fault.status ?? 302, {location: (fault.location ?? '/').replace('{path}', res.req.url ?? '/')})
          .end('moved')
        return true
      }

      case 'raw': {
        const body = Buffer.from(fault.body ?? '', 'utf8')
        const head = `HTTP/1.1 ${fault.status ?? 500} ${fault.reason ?? 'Internal Server Error'}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`
        res.socket?.end(Buffer.concat([Buffer.from(head, 'utf8'), body]))
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

const bombs = new Map<number, Promise<Buffer>>()

/** `{"code":200,"data":[{"bomb":"xxx…"}]}` gzipped, the string `size` bytes long; built once per size, streaming. */
async function gzipBomb(size: number): Promise<Buffer> {
  let bomb = bombs.get(size)
  if (!bomb) {
    bomb = (async () => {
      const gzip = createGzip({level: 9})
      const parts: Buffer[] = []
      gzip.on('data', (part: Buffer) => parts.push(part))
      const done = new Promise((resolve, reject) => gzip.on('end', resolve).on('error', reject))
      const block = Buffer.alloc(1024 * 1024, 'x')
      gzip.write('{"code":200,"data":[{"bomb":"')
      for (let left = size; left > 0; left -= block.length) {
        if (!gzip.write(left >= block.length ? block : block.subarray(0, left)))
          await new Promise(resolve => gzip.once('drain', resolve))
      }

      gzip.end('"}]}')
      await done
      return Buffer.concat(parts)
    })()
    bombs.set(size, bomb)
  }

  return bomb
}

function firstDayOf(res: ServerResponse): string {
  const window = new URL(res.req.url ?? '/', 'http://fake').searchParams.get('window') ?? ''
  return window.slice(0, 10)
}

function json(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)}).end(text)
}

/** The clusters of Kubecost's `filter=cluster:"a","b"`; undefined when the request has no cluster filter. */
function clusterFilterOf(filter: string | undefined): string[] | undefined {
  const m = /^cluster:(.+)$/.exec(filter ?? '')
  if (!m) return undefined
  return (JSON.parse(`[${m[1] as string}]`) as unknown[]).map(String)
}

function daysOfWindow(start: string, end: string): string[] {
  const days: string[] = []
  const from = Date.parse(start)
  const to = Date.parse(end)
  if (Number.isNaN(from) || Number.isNaN(to)) return days
  for (let t = from; t < to; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10))
  return days
}
