import {
  type ExpectedPrincipals,
  EXPORTER_NEEDS,
  bucketArn,
  exporterAccounts,
  exporterKeysArn,
  namedPrincipals,
} from './principals.js'

/**
 * The recommended bucket policy: one Deny statement per rule, because conditions inside one
 * statement are ANDed — a single statement "plain HTTP AND old TLS AND unlisted principal" denies
 * almost nothing. Principals of the bucket's account get access from their IAM policies, and these
 * Denies bound what any of them can do; exporter roles of other accounts also need the one Allow.
 */

export interface PolicyStatementJson {
  Sid: string
  Effect: 'Allow' | 'Deny'
  Principal: '*' | {AWS: string[]}
  Action: string | string[]
  Resource: string[]
  Condition: Record<string, Record<string, string | string[]>>
}

export interface RecommendedPolicy {
  Version: '2012-10-17'
  Statement: PolicyStatementJson[]
}

export function recommendedPolicy(expected: ExpectedPrincipals): RecommendedPolicy {
  const bucket = bucketArn(expected)
  const tagKey = `aws:PrincipalTag/${expected.exporterTag.key}`
  const deny = (Sid: string, Condition: PolicyStatementJson['Condition']): PolicyStatementJson => ({
    Sid,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucket, `${bucket}/*`],
    Condition,
  })
  const accounts = exporterAccounts(expected)
  const named = {'aws:PrincipalArn': namedPrincipals(expected)}
  const statements = [
    deny('DenyPlainHttp', {Bool: {'aws:SecureTransport': 'false'}}),
    deny('DenyTlsOlderThan12', {NumericLessThan: {'s3:TlsVersion': '1.2'}}),
    // Both conditions in one statement on purpose: deny a caller that is neither named nor tagged.
    deny('DenyOutsideKubecostPipeline', {ArnNotLike: named, StringNotEquals: {[tagKey]: expected.exporterTag.value}}),
    // Any account can tag its own roles: the tag counts only for roles of the exporter accounts.
    deny('DenyOtherAccountsUnlessNamed', {ArnNotLike: named, StringNotEquals: {'aws:PrincipalAccount': accounts}}),
  ]
  if (expected.exporterAccounts.length > 0) {
    statements.push({
      Sid: 'AllowTaggedExportersOfExporterAccounts',
      Effect: 'Allow',
      Principal: {AWS: expected.exporterAccounts.map(a => `arn:${expected.partition}:iam::${a}:root`)},
      Action: EXPORTER_NEEDS.map(a => a.action),
      Resource: [bucket, `${exporterKeysArn(expected)}*`],
      Condition: {StringEquals: {[tagKey]: expected.exporterTag.value}},
    })
  }

  return {Version: '2012-10-17', Statement: statements}
}
