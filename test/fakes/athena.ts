/**
 * A small in-memory Athena over real HTTP, speaking its JSON 1.1 protocol
 * (`X-Amz-Target: AmazonAthena.<Operation>`), for the CLI to reach through AWS_ENDPOINT_URL_ATHENA.
 * Workgroups, and the query executions of deploy-glue --verify.
 *
 * Behaviour (as Athena does):
 * - `primary` always exists, with no query result location unless `primaryOutput` is given.
 * - GetWorkGroup of a workgroup that does not exist is 400 InvalidRequestException (Athena's generic
 *   error), which is why callers list the workgroups first; CreateWorkGroup of an existing one too.
 * - UpdateWorkGroup merges ConfigurationUpdates into the configuration.
 * - Workgroup tags (CreateWorkGroup's Tags, TagResource, ListTagsForResource) are kept by ARN,
 *   arn:aws:athena:us-east-1:111122223333:workgroup/<name>; a workgroup that does not exist is 400
 *   ResourceNotFoundException there.
 * - StartQueryExecution answers a QueryExecutionId at once; the query goes QUEUED → RUNNING →
 *   SUCCEEDED (or FAILED / CANCELLED with a StateChangeReason and, for FAILED, an AthenaError), one
 *   step per GetQueryExecution (`query` sets how many polls each state lasts and how it ends;
 *   `failNextQuery(reason)` makes the next one fail). A workgroup that does not exist, or one with no
 *   query result location when the request gives none, is 400 InvalidRequestException.
 * - `fail(op, type)` makes the next call of an operation fail that way; every request is recorded.
 */
import {randomUUID} from 'node:crypto'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'

import {listenOnLoopback, onRequestBody, signingRegion} from './http.js'

type Json = Record<string, unknown>

export interface QueryBehaviour {
  queuedPolls: number
  runningPolls: number
  outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
  reason?: string
  /** Never finishes (for timeouts). */
  forever?: boolean
}

interface QueryRecord {
  input: Json
  behaviour: QueryBehaviour
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
  polls: number
  submitted: number
}

export class AthenaFake {
  /** Each request's operation, body, and the region it was signed for. */
  readonly requests: Array<{op: string; body: Json; region?: string}> = []
  readonly workgroups = new Map<string, Json>()
  readonly queries = new Map<string, QueryRecord>()
  /** Tags by workgroup ARN. */
  readonly tags = new Map<string, Array<{Key: string; Value: string}>>()
  query: QueryBehaviour = {queuedPolls: 1, runningPolls: 1, outcome: 'SUCCEEDED'}
  private readonly faults: Array<{op: string; type: string}> = []
  private nextFailure: string | undefined

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

  /** The next query ends FAILED with this StateChangeReason (as Athena reports a query it cannot plan). */
  failNextQuery(reason: string): void {
    this.nextFailure = reason
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
    this.requests.push({op, body, region: signingRegion(req)})
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
        if (Array.isArray(body.Tags))
          this.tags.set(workgroupArn(name), body.Tags as Array<{Key: string; Value: string}>)
        send(200, {})
        return
      }

      case 'ListTagsForResource':
      case 'TagResource': {
        const arn = String(body.ResourceARN)
        const name = /^arn:aws:athena:[a-z0-9-]+:\d{12}:workgroup\/(.+)$/.exec(arn)?.[1]
        if (!name || !this.workgroups.has(name)) {
          send(400, {__type: 'ResourceNotFoundException', Message: `${arn} is not found.`})
          return
        }

        if (op === 'ListTagsForResource') {
          send(200, {Tags: this.tags.get(arn) ?? []})
          return
        }

        const added = body.Tags as Array<{Key: string; Value: string}>
        const kept = (this.tags.get(arn) ?? []).filter(t => !added.some(a => a.Key === t.Key))
        this.tags.set(arn, [...kept, ...added])
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

      case 'StartQueryExecution': {
        const w = this.workgroups.get(typeof body.WorkGroup === 'string' ? body.WorkGroup : 'primary')
        if (!w) {
          invalid(`WorkGroup ${String(body.WorkGroup)} is not found.`)
          return
        }

        const config = (w.Configuration ?? {}) as Json
        const location = (config.ResultConfiguration as Json | undefined)?.OutputLocation
        const given = (body.ResultConfiguration as Json | undefined)?.OutputLocation
        if (!location && !given) {
          invalid(
            'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.',
          )
          return
        }

        const id = randomUUID()
        const behaviour = this.nextFailure
          ? {...this.query, outcome: 'FAILED' as const, reason: this.nextFailure}
          : this.query
        this.nextFailure = undefined
        this.queries.set(id, {input: body, behaviour, state: 'QUEUED', polls: 0, submitted: Date.now() / 1000})
        send(200, {QueryExecutionId: id})
        return
      }

      case 'GetQueryExecution': {
        const q = this.queries.get(String(body.QueryExecutionId))
        if (!q) {
          invalid(`QueryExecution ${String(body.QueryExecutionId)} was not found`)
          return
        }

        advanceQuery(q)
        const b = q.behaviour
        const ended = q.state === 'FAILED' || q.state === 'CANCELLED'
        send(200, {
          QueryExecution: {
            QueryExecutionId: body.QueryExecutionId,
            Query: q.input.QueryString,
            StatementType: 'DML',
            WorkGroup: q.input.WorkGroup ?? 'primary',
            Status: {
              State: q.state,
              SubmissionDateTime: q.submitted,
              ...(ended ? {StateChangeReason: b.reason ?? `Query ${q.state.toLowerCase()}`} : {}),
              ...(q.state === 'FAILED'
                ? {AthenaError: {ErrorCategory: 2, ErrorType: 1301, Retryable: false, ErrorMessage: b.reason}}
                : {}),
            },
          },
        })
        return
      }

      default:
        invalid(`the fake does not implement ${op}`)
    }
  }
}

export const workgroupArn = (name: string) => `arn:aws:athena:us-east-1:111122223333:workgroup/${name}`

/** One step of a query's life per poll: QUEUED for `queuedPolls`, RUNNING for `runningPolls`, then its outcome. */
function advanceQuery(q: QueryRecord): void {
  const b = q.behaviour
  if (q.state !== 'QUEUED' && q.state !== 'RUNNING') return
  q.polls++
  if (b.forever) return
  if (q.polls <= b.queuedPolls) q.state = 'QUEUED'
  else if (q.polls <= b.queuedPolls + b.runningPolls) q.state = 'RUNNING'
  else q.state = b.outcome
}
