/**
 * One HTTP request as an AWS fake received it, recorded whole so that a test can tell which IAM action
 * (and on which resource) the real service would have authorised: test/deploy/iam-operator-calls.test.ts.
 */
export interface RecordedCall {
  method: string
  /** The request target: path and query string. */
  url: string
  /** `X-Amz-Target` of the JSON protocols (Glue, Athena, Secrets Manager). */
  target?: string
  body: string
  /** The region the request was signed for. */
  region?: string
}
