import {type ExpectedPrincipals, bucketArn, namedPrincipals} from './principals.js'

/**
 * The recommended bucket policy: one Deny statement per rule, because conditions inside one
 * statement are ANDed — a single statement "plain HTTP AND old TLS AND unlisted principal" denies
 * almost nothing. No Allow: principals of the bucket's account get access from their IAM policies,
 * and these Denies bound what any of them can do.
 */

export interface PolicyStatementJson {
  Sid: string
  Effect: 'Deny'
  Principal: '*'
  Action: string
  Resource: string[]
  Condition: Record<string, Record<string, string | string[]>>
}

export interface RecommendedPolicy {
  Version: '2012-10-17'
  Statement: PolicyStatementJson[]
}

export function recommendedPolicy(expected: ExpectedPrincipals): RecommendedPolicy {
  const bucket = bucketArn(expected)
  const deny = (Sid: string, Condition: PolicyStatementJson['Condition']): PolicyStatementJson => ({
    Sid,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucket, `${bucket}/*`],
    Condition,
  })
  return {
    Version: '2012-10-17',
    Statement: [
      deny('DenyPlainHttp', {Bool: {'aws:SecureTransport': 'false'}}),
      deny('DenyTlsOlderThan12', {NumericLessThan: {'s3:TlsVersion': '1.2'}}),
      // Both conditions in this one statement on purpose: deny a caller that is neither named nor tagged.
      deny('DenyOutsideKubecostPipeline', {
        ArnNotLike: {'aws:PrincipalArn': namedPrincipals(expected)},
        StringNotEquals: {[`aws:PrincipalTag/${expected.exporterTag.key}`]: expected.exporterTag.value},
      }),
    ],
  }
}
