/**
 * A small in-memory Athena over real HTTP, speaking its JSON 1.1 protocol
 * (`X-Amz-Target: AmazonAthena.<Operation>`), for the CLI to reach through AWS_ENDPOINT_URL_ATHENA.
 * Only workgroups: deploy-glue writes the view as a Glue VIRTUAL_VIEW, so it runs no queries.
 *
 * Behaviour (as Athena does):
 * - `primary` always exists, with no query result location unless `primaryOutput` is given.
 * - GetWorkGroup of a workgroup that does not exist is 400 InvalidRequestException (Athena's generic
 *   error), which is why callers list the workgroups first; CreateWorkGroup of an existing one too.
 * - UpdateWorkGroup merges ConfigurationUpdates into the configuration.
 * - `fail(op, type)` makes the next call of an operation fail that way; every request is recorded.
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'

import {listenOnLoopback, onRequestBody} from './http.js'

type Json = Record<string, unknown>

export class AthenaFake {
  readonly requests: Array<{op: string; body: Json}> = []
  readonly workgroups = new Map<string, Json>()
  private readonly faults: Array<{op: string; type: string}> = []

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(options: {primaryOutput?: string} = {}): Promise<AthenaFake> {
    const server = createServer()
    const fake = new AthenaFake(server, await listenOnLoopback(server))
    fake.workgroups.set('primary', {
      Name: 'primary',
      State: 'ENABLED',
      Configuration: {
        EnforceWorkGroupConfiguration: false,
        ...(options.primaryOutput ? {ResultConfiguration: {OutputLocation: options.primaryOutput}} : {}),
      },
    })
    onRequestBody(server, (req, body, res) => fake.handle(req, body, res))
    return fake
  }

  get env(): Record<string, string> {
    return {AWS_ENDPOINT_URL_ATHENA: this.endpoint}
  }

  fail(op: string, type: string): void {
    this.faults.push({op, type})
  }

  writes(): string[] {
    return this.requests.map(r => r.op).filter(op => !/^(Get|List)/.test(op))
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonAthena\./, '')
    const body = JSON.parse(raw || '{}') as Json
    this.requests.push({op, body})
    const send = (status: number, payload: Json) => {
      res.writeHead(status, {'content-type': 'application/x-amz-json-1.1'})
      res.end(JSON.stringify(payload))
    }

    const invalid = (message: string) => send(400, {__type: 'InvalidRequestException', Message: message})
    const fault = this.faults.findIndex(f => f.op === op)
    if (fault !== -1) {
      const [f] = this.faults.splice(fault, 1)
      send(400, {__type: f?.type, Message: `injected ${f?.type ?? ''}`})
      return
    }

    switch (op) {
      case 'ListWorkGroups':
        send(200, {WorkGroups: [...this.workgroups.values()].map(w => ({Name: w.Name, State: w.State}))})
        return
      case 'GetWorkGroup': {
        const w = this.workgroups.get(String(body.WorkGroup))
        if (w) send(200, {WorkGroup: w})
        else invalid(`WorkGroup ${String(body.WorkGroup)} is not found.`)
        return
      }

      case 'CreateWorkGroup': {
        const name = String(body.Name)
        if (this.workgroups.has(name)) {
          invalid('WorkGroup is already created')
          return
        }

        this.workgroups.set(name, {
          Name: name,
          State: 'ENABLED',
          Description: body.Description,
          Configuration: body.Configuration,
          CreationTime: Date.now() / 1000,
        })
        send(200, {})
        return
      }

      case 'UpdateWorkGroup': {
        const w = this.workgroups.get(String(body.WorkGroup))
        if (!w) {
          invalid(`WorkGroup ${String(body.WorkGroup)} is not found.`)
          return
        }

        const updates = (body.ConfigurationUpdates ?? {}) as Json
        const config = (w.Configuration ?? {}) as Json
        const result = {
          ...(config.ResultConfiguration as Json | undefined),
          ...(updates.ResultConfigurationUpdates as Json | undefined),
        }
        w.Configuration = {
          ...config,
          ResultConfiguration: result,
          ...(updates.EnforceWorkGroupConfiguration === undefined
            ? {}
            : {EnforceWorkGroupConfiguration: updates.EnforceWorkGroupConfiguration}),
        }
        send(200, {})
        return
      }

      default:
        invalid(`the fake does not implement ${op}`)
    }
  }
}
