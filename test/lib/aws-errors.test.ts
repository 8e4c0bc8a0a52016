import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {redirectRegion} from '../../src/lib/aws/clients.js'
import {classifyAwsError} from '../../src/lib/aws/errors.js'

const PUT = {
  action: 's3:PutObject',
  resource: 's3://b/k.parquet',
  region: 'us-east-1',
  afterFailure: ['Nothing was stored at s3://b/k.parquet.'],
}

function sdkError(name: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} from S3`), {name, ...fields})
}

describe('classifyAwsError for failures worth another run', () => {
  it("a wrong region from an AuthorizationHeaderMalformed body names the bucket's region and AWS_REGION", () => {
    const error = classifyAwsError(
      sdkError('AuthorizationHeaderMalformed', {Region: 'ap-southeast-2', $metadata: {httpStatusCode: 400}}),
      PUT,
    )
    assert.equal(error.code, 'AWS_WRONG_REGION')
    assert.equal(error.exitCode, 1)
    assert.match(
      error.message,
      /^S3 says the bucket is in region ap-southeast-2, not us-east-1: s3:PutObject on s3:\/\/b\/k\.parquet failed \(HTTP 400 AuthorizationHeaderMalformed/,
    )
    assert.match(error.suggestions[0] as string, /Set AWS_REGION=ap-southeast-2/)
  })

  it('throttling, with the number of attempts and what becomes of the day', () => {
    const error = classifyAwsError(sdkError('SlowDown', {$metadata: {httpStatusCode: 503, attempts: 5}}), PUT)
    assert.equal(error.code, 'AWS_THROTTLED')
    assert.equal(
      error.message,
      'S3 is throttling requests: s3:PutObject on s3://b/k.parquet failed after 5 attempts (HTTP 503 SlowDown: SlowDown from S3)',
    )
    assert.equal(error.suggestions[0], 'Nothing was stored at s3://b/k.parquet.')
  })

  it('a connection reset (which the SDK names TimeoutError) is a network failure, not a timeout', () => {
    const reset = classifyAwsError(sdkError('TimeoutError', {code: 'ECONNRESET', $metadata: {attempts: 3}}), PUT)
    assert.equal(reset.code, 'AWS_NETWORK')
    assert.match(
      reset.message,
      /^The connection to S3 failed: s3:PutObject on s3:\/\/b\/k\.parquet failed after 3 attempts \(ECONNRESET: /,
    )
    const idle = classifyAwsError(sdkError('TimeoutError', {$metadata: {attempts: 3}}), {
      ...PUT,
      timeout: {setting: '--s3-timeout (S3_REQUEST_TIMEOUT)', seconds: 120},
    })
    assert.equal(idle.code, 'AWS_TIMEOUT')
    assert.match(
      idle.message,
      /timed out after 3 attempts, each attempt waiting 120 s \(--s3-timeout \(S3_REQUEST_TIMEOUT\)\)/,
    )
    assert.ok(idle.suggestions.some(s => s.includes('raise --s3-timeout (S3_REQUEST_TIMEOUT) (now 120 s)')))
  })

  it('a body corrupted in transit, a 5xx, and an abort each have their own code', () => {
    assert.equal(classifyAwsError(sdkError('BadDigest', {$metadata: {httpStatusCode: 400}}), PUT).code, 'AWS_CORRUPTED')
    const server = classifyAwsError(sdkError('InternalError', {$metadata: {httpStatusCode: 500, attempts: 5}}), PUT)
    assert.equal(server.code, 'AWS_SERVER_ERROR')
    assert.match(
      server.message,
      /^S3 failed: s3:PutObject on s3:\/\/b\/k\.parquet failed after 5 attempts \(HTTP 500 InternalError/,
    )
    assert.equal(classifyAwsError(sdkError('AbortError'), PUT).code, 'AWS_ABORTED')
  })

  it('one attempt says no count; other services keep their generic message', () => {
    assert.equal(
      classifyAwsError(sdkError('ValidationException', {$metadata: {httpStatusCode: 400, attempts: 1}}), {
        action: 'glue:GetTable',
        resource: 'table t',
      }).message,
      'glue:GetTable on table t failed: ValidationException: ValidationException from S3',
    )
  })
})

describe('classifyAwsError for an S3-compatible endpoint (--s3-endpoint) that cannot be reached', () => {
  const AT = {...PUT, endpoint: 'http://minio.storage:9000'}

  it('names the endpoint and its setting for each way of not reaching it, never VPC endpoints or NAT', () => {
    for (const [code, hint] of [
      [
        'ECONNREFUSED',
        'Nothing accepts connections at minio.storage:9000: check the host and port in {{setting:s3Endpoint}} "http://minio.storage:9000", and that the store is running.',
      ],
      [
        'ENOTFOUND',
        'The host name minio.storage in {{setting:s3Endpoint}} "http://minio.storage:9000" could not be resolved: check it (a <service>.<namespace> name resolves only inside the cluster).',
      ],
      [
        'EHOSTUNREACH',
        'Check {{setting:s3Endpoint}} "http://minio.storage:9000": that the store is up and reachable from here (network policies, security groups, firewalls).',
      ],
    ] as const) {
      const error = classifyAwsError(sdkError('Error', {code, $metadata: {attempts: 5}}), AT)
      assert.equal(error.code, 'AWS_NETWORK')
      assert.match(
        error.message,
        new RegExp(
          `^The connection to S3 at http://minio\\.storage:9000 failed: s3:PutObject on s3://b/k\\.parquet failed after 5 attempts \\(${code}: `,
        ),
      )
      assert.equal(error.suggestions[0], hint)
      assert.doesNotMatch(error.suggestions.join(), /VPC|NAT/)
    }
  })

  it('names the endpoint of a timeout too; without an endpoint the network path to AWS is meant', () => {
    const timeout = classifyAwsError(sdkError('TimeoutError', {$metadata: {attempts: 5}}), AT)
    assert.equal(timeout.code, 'AWS_TIMEOUT')
    assert.match(timeout.message, /^S3 at http:\/\/minio\.storage:9000 did not answer in time: /)
    assert.match(timeout.suggestions[0] as string, /^Check \{\{setting:s3Endpoint\}\} "http:\/\/minio\.storage:9000"/)
    assert.doesNotMatch(timeout.suggestions.join(), /VPC|NAT/)

    const aws = classifyAwsError(sdkError('Error', {code: 'ECONNREFUSED', $metadata: {attempts: 5}}), PUT)
    assert.match(aws.message, /^The connection to S3 failed: /)
    assert.match(aws.suggestions[0] as string, /VPC endpoint, NAT gateway/)
  })

  it('never shows credentials written into the endpoint', () => {
    const error = classifyAwsError(sdkError('Error', {code: 'ECONNREFUSED'}), {
      ...PUT,
      endpoint: 'http://minio:s3cret@minio.storage:9000',
    })
    assert.doesNotMatch(`${error.message} ${error.suggestions.join()}`, /s3cret/)
    assert.match(error.message, /S3 at http:\/\/\*\*\*@minio\.storage:9000/)
  })
})

describe('classifyAwsError for an answer with no error code (a proxy in front of S3)', () => {
  const noise = 'XML parse error: unexpected content.\n  Deserialization error: to see the raw response, inspect it'

  it('names it by its status and who sent it, never by the SDK message', () => {
    const throttled = classifyAwsError(
      sdkError('Unknown', {
        message: 'UnknownError',
        $metadata: {httpStatusCode: 429, attempts: 5},
        $response: {headers: {'content-type': 'text/html'}},
      }),
      PUT,
    )
    assert.equal(throttled.code, 'AWS_THROTTLED')
    assert.equal(
      throttled.message,
      'S3 is throttling requests: s3:PutObject on s3://b/k.parquet failed after 5 attempts (HTTP 429 from the S3 endpoint, with no S3 error code: text/html)',
    )
    assert.deepEqual(throttled.suggestions, [
      'Nothing was stored at s3://b/k.parquet.',
      'The limit is set by a proxy or gateway between here and S3 (S3 itself answers with an error code): if it happens every night, raise it there.',
    ])

    const tooLarge = classifyAwsError(sdkError('Error', {message: noise, $metadata: {httpStatusCode: 413}}), PUT)
    assert.equal(tooLarge.code, 'AWS')
    assert.equal(
      tooLarge.message,
      's3:PutObject on s3://b/k.parquet failed: HTTP 413 from the S3 endpoint, with no S3 error code',
    )
  })

  it('keeps the names of real error codes, and of failures that are not answers', () => {
    const slowDown = classifyAwsError(sdkError('SlowDown', {$metadata: {httpStatusCode: 503}}), PUT)
    assert.match(slowDown.message, /\(HTTP 503 SlowDown: SlowDown from S3\)$/)
    const network = classifyAwsError(sdkError('Error', {message: 'socket hang up', code: 'ECONNRESET'}), PUT)
    assert.match(network.message, /\(ECONNRESET: socket hang up\)$/)
  })
})

describe('redirectRegion', () => {
  it('reads x-amz-bucket-region from a 301 or 400, and nothing else', () => {
    const headers = {'x-amz-bucket-region': 'eu-west-1'}
    assert.equal(redirectRegion({$metadata: {httpStatusCode: 301}, $response: {headers}}), 'eu-west-1')
    assert.equal(redirectRegion({$metadata: {httpStatusCode: 400}, $response: {headers}}), 'eu-west-1')
    assert.equal(redirectRegion({$metadata: {httpStatusCode: 200}, $response: {headers}}), undefined)
    assert.equal(redirectRegion({$metadata: {httpStatusCode: 301}, $response: {headers: {}}}), undefined)
    assert.equal(redirectRegion(undefined), undefined)
  })
})
