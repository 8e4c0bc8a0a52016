/** What the small AWS fakes share: a loopback server on a free port, each request's body read whole, and the region it was signed for. */
import type {IncomingMessage, Server, ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

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
