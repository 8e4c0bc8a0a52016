/**
 * What the small AWS fakes share: a loopback server on a free port, each request's body read whole,
 * and the region a request was signed for; and an endpoint that accepts requests and never answers.
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

/** Listens on 127.0.0.1, port 0 (never assumed free), and gives the endpoint URL. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Hands each request to `handle` once its whole body has arrived. */
export function onRequestBody(
  server: Server,
  handle: (req: IncomingMessage, body: string, res: ServerResponse) => unknown,
): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => handle(req, body, res))
  })
}

/** The region a request was signed for: the credential scope of its SigV4 Authorization header. */
export function signingRegion(req: IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1]
}

/**
 * An AWS endpoint that accepts every connection, reads every request and never answers: a service
 * that stalls. Each request is recorded (every attempt of a call is one), with the time its
 * connection closed, so a test sees that an aborted call let go of its socket.
 */
export class StallingEndpoint {
  readonly requests: Array<{target?: string; body: string; region?: string; closedAt?: number}> = []
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<StallingEndpoint> {
    const server = createServer()
    const stalling = new StallingEndpoint(server, await listenOnLoopback(server))
    server.on('connection', socket => {
      stalling.sockets.add(socket)
      socket.on('close', () => stalling.sockets.delete(socket))
    })
    onRequestBody(server, (req, body) => {
      const request: StallingEndpoint['requests'][number] = {
        target: req.headers['x-amz-target'] as string | undefined,
        body,
        region: signingRegion(req),
      }
      stalling.requests.push(request)
      req.socket.on('close', () => (request.closedAt ??= Date.now()))
    })
    return stalling
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}
