declare module 's3rver' {
  import type {Server} from 'node:http'
  import type {AddressInfo} from 'node:net'

  interface S3rverOptions {
    address?: string
    port?: number
    silent?: boolean
    directory: string
    resetOnClose?: boolean
    configureBuckets?: Array<{name: string; configs?: string[]}>
  }

  export default class S3rver {
    constructor(options: S3rverOptions)
    httpServer?: Server
    run(): Promise<AddressInfo>
    close(): Promise<void>
    /** The Koa request listener, for wrapping s3rver in another HTTP server. */
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void
  }
}
