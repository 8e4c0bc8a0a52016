/**
 * Small stateful fakes of STS (AssumeRole, AssumeRoleWithWebIdentity, query protocol) and Secrets
 * Manager (GetSecretValue, JSON protocol) over real HTTP, for the CLI in a child process to reach
 * through AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SECRETS_MANAGER.
 *
 * Behaviour:
 * - AssumeRole returns credentials S3RVER/S3RVER (what s3rver accepts) with session token
 *   `session-<n>` and an expiration `lifetimeMs` from now; roles listed in `denyRoles` get 403
 *   AccessDenied. AssumeRoleWithWebIdentity does the same for a request that carries a
 *   WebIdentityToken (and no signature: the token is the proof), else 400 InvalidIdentityToken.
 * - GetSecretValue returns the SecretString of a known secret, else 400 ResourceNotFoundException.
 * - Every request is recorded with its parameters and its x-amz-security-token header.
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'

import {listenOnLoopback, onRequestBody} from './http.js'

export interface AwsFakeOptions {
  secrets?: Record<string, string>
  lifetimeMs?: number
  denyRoles?: string[]
}

export interface AwsFakeRequest {
  service: 'sts' | 'secretsmanager'
  params: Record<string, string>
  sessionToken?: string
}

export class AwsFake {
  readonly requests: AwsFakeRequest[] = []
  private sessions = 0

  private constructor(
    private readonly server: Server,
    private readonly options: AwsFakeOptions,
    readonly endpoint: string,
  ) {}

  static async start(options: AwsFakeOptions = {}): Promise<AwsFake> {
    const server = createServer()
    const fake = new AwsFake(server, options, await listenOnLoopback(server))
    onRequestBody(server, (req, body, res) => fake.handle(req, body, res))
    return fake
  }

  /** Environment for a child process to use these fakes. */
  get env(): Record<string, string> {
    return {AWS_ENDPOINT_URL_STS: this.endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER: this.endpoint}
  }

  assumeRoleCalls(action: 'AssumeRole' | 'AssumeRoleWithWebIdentity' = 'AssumeRole'): AwsFakeRequest[] {
    return this.requests.filter(r => r.service === 'sts' && r.params.Action === action)
  }

  async close(): Promise<void> {
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const token = req.headers['x-amz-security-token'] as string | undefined
    const target = req.headers['x-amz-target'] as string | undefined
    if (target?.startsWith('secretsmanager.')) {
      const params = JSON.parse(body || '{}') as Record<string, string>
      this.requests.push({
        service: 'secretsmanager',
        params: {Action: target.split('.')[1] ?? '', ...params},
        sessionToken: token,
      })
      const secret = this.options.secrets?.[params.SecretId ?? '']
      if (secret === undefined) {
        res.writeHead(400, {'content-type': 'application/x-amz-json-1.1'})
        res.end(
          JSON.stringify({
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          }),
        )
        return
      }

      res.writeHead(200, {'content-type': 'application/x-amz-json-1.1'})
      res.end(
        JSON.stringify({
          ARN: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${params.SecretId}-AbCdEf`,
          Name: params.SecretId,
          SecretString: secret,
        }),
      )
      return
    }

    const params = Object.fromEntries(new URLSearchParams(body))
    this.requests.push({service: 'sts', params, sessionToken: token})
    const action = params.Action ?? ''
    if (action !== 'AssumeRole' && action !== 'AssumeRoleWithWebIdentity') {
      res.writeHead(400, {'content-type': 'text/xml'}).end(stsError('InvalidAction', `unsupported ${action}`))
      return
    }

    if (action === 'AssumeRoleWithWebIdentity' && (!params.WebIdentityToken || req.headers.authorization)) {
      res.writeHead(400, {'content-type': 'text/xml'}).end(stsError('InvalidIdentityToken', 'no web identity token'))
      return
    }

    if (this.options.denyRoles?.includes(params.RoleArn ?? '')) {
      res.writeHead(403, {'content-type': 'text/xml'})
      res.end(
        stsError('AccessDenied', `User is not authorized to perform: sts:AssumeRole on resource: ${params.RoleArn}`),
      )
      return
    }

    const n = ++this.sessions
    const expiration = new Date(Date.now() + (this.options.lifetimeMs ?? 3_600_000)).toISOString()
    res.writeHead(200, {'content-type': 'text/xml'})
    res.end(`<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <${action}Result>
    <Credentials>
      <AccessKeyId>S3RVER</AccessKeyId>
      <SecretAccessKey>S3RVER</SecretAccessKey>
      <SessionToken>session-${n}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>${params.RoleArn}/${params.RoleSessionName}</Arn>
      <AssumedRoleId>AROAEXAMPLE:${params.RoleSessionName}</AssumedRoleId>
    </AssumedRoleUser>
  </${action}Result>
  <ResponseMetadata><RequestId>req-${n}</RequestId></ResponseMetadata>
</${action}Response>`)
  }
}

function stsError(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>err</RequestId></ErrorResponse>`
}
