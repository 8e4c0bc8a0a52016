import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {describe, it} from 'node:test'

import {InvalidInputError} from '../../src/lib/errors.js'
import {
  type Check,
  type CheckId,
  type PolicyState,
  type VerificationReport,
  verdictLine,
  verificationFailure,
  verify,
} from '../../src/lib/policy/analyze.js'
import type {BucketSettings} from '../../src/lib/aws/bucket-settings.js'
import {parsePolicy} from '../../src/lib/policy/document.js'
import {
  type ExpectedPrincipals,
  expectedPrincipals,
  parseExporterTag,
  parsePrincipalArn,
} from '../../src/lib/policy/principals.js'
import {recommendedPolicy} from '../../src/lib/policy/recommended.js'

const ORIGINAL = new URL('../fixtures/policies/original-single-statement.json', import.meta.url)
const BUCKET = 'kubecost-data-collection-bucket'
const ARN = `arn:aws:s3:::${BUCKET}`
const ADMIN = 'arn:aws:iam::111122223333:role/bucket-admin'
const CRAWLER = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'
const QUICKSIGHT = 'arn:aws:iam::111122223333:role/service-role/aws-quicksight-service-role-v0'

function expected(overrides: {admins?: string[]; crawler?: string; bucket?: string} = {}): ExpectedPrincipals {
  const arn = (value: string) => parsePrincipalArn(value, {flag: 'test'}, {users: true, wildcards: true})
  return expectedPrincipals({
    bucket: overrides.bucket ?? BUCKET,
    adminRoles: (overrides.admins ?? [ADMIN]).map(arn),
    crawlerRole: arn(overrides.crawler ?? CRAWLER),
    exporterTag: parseExporterTag('irsa-kubecost-s3-exporter=true', {flag: 'exporter-tag'}),
  })
}

const present = (document: object | string): PolicyState => ({
  state: 'present',
  policy: parsePolicy(typeof document === 'string' ? document : JSON.stringify(document), 'test policy'),
})
const statements = (...list: object[]) => present({Version: '2012-10-17', Statement: list})
const deny = (Sid: string, Condition?: object, extra: object = {}) => ({
  Sid,
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [ARN, `${ARN}/*`],
  ...(Condition ? {Condition} : {}),
  ...extra,
})
const HTTP_DENY = deny('DenyPlainHttp', {Bool: {'aws:SecureTransport': 'false'}})
const TLS_DENY = deny('DenyOldTls', {NumericLessThan: {'s3:TlsVersion': '1.2'}})
const OUTSIDERS_DENY = deny('DenyOutsiders', {
  ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER, QUICKSIGHT]},
  StringNotEquals: {'aws:PrincipalTag/irsa-kubecost-s3-exporter': 'true'},
})

function run(policy: PolicyState, settings?: BucketSettings, who = expected()): VerificationReport {
  return verify(who, policy, settings, settings ? {kind: 'bucket'} : {kind: 'file', path: 'policy.json'})
}

function get(report: VerificationReport, id: CheckId): Check {
  const found = report.checks.find(c => c.id === id)
  assert.ok(found, id)
  return found
}

const statuses = (report: VerificationReport) => Object.fromEntries(report.checks.map(c => [c.id, c.status]))

const GOOD_SETTINGS: BucketSettings = {
  policy: {state: 'not-configured'},
  encryption: {state: 'configured', value: [{algorithm: 'AES256'}]},
  publicAccessBlock: {
    state: 'configured',
    value: {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
  },
  objectOwnership: {state: 'configured', value: 'BucketOwnerEnforced'},
}

describe('verify: the original single-statement sample', () => {
  it('fails plain HTTP, old TLS and expected principals, explaining that IAM ANDs the conditions', async () => {
    const report = run(present(await readFile(ORIGINAL, 'utf8')))
    assert.deepEqual(statuses(report), {
      'https-only': 'fail',
      'tls-1.2': 'fail',
      'expected-principals': 'fail',
      'no-public-allow': 'pass',
      'policy-size': 'pass',
      'default-encryption': 'skipped',
      'public-access-block': 'skipped',
      'object-ownership': 'skipped',
    })
    const https = get(report, 'https-only')
    assert.match(
      https.reason,
      /^the deny conditions are in one statement \(#1\) and IAM ANDs them, so it denies only a request that is at once over plain HTTP, from a principal not in its aws:PrincipalArn list, without tag irsa-kubecost-s3-exporter=true and on TLS older than 1\.2/,
    )
    assert.match(https.reason, /a plain-HTTP request carries no TLS version, so no request meets them all/)
    assert.match(
      https.reason,
      /it denies none of the \d+ simulated plain-HTTP requests, e\.g\. s3:\w+ on (the bucket|its objects) over plain HTTP by a session of an unlisted role of the account gets through/,
    )
    assert.match(https.fix ?? '', /Add a statement of its own: .*"Bool": \{"aws:SecureTransport": "false"\}/)
    assert.ok(https.details.some(d => d.startsWith('not denied: ') && d.includes(`administrator ${ADMIN}`)))
    assert.match(
      get(report, 'tls-1.2').reason,
      /IAM ANDs them.*it denies none of the \d+ simulated requests over TLS 1\.0 or 1\.1/,
    )
    assert.match(get(report, 'tls-1.2').fix ?? '', /"NumericLessThan": \{"s3:TlsVersion": "1\.2"\}/)
    assert.match(
      get(report, 'expected-principals').reason,
      /IAM ANDs them.*HTTPS requests by principals outside the expected set/,
    )
    assert.equal(report.verdict, 'fail')
    assert.deepEqual(report.counts, {pass: 2, fail: 3, warn: 0, skipped: 3})
  })

  it('also fails with a plain-HTTP request from an unlisted principal when the TLS condition is dropped: still ANDed with the principal', () => {
    const report = run(
      statements(
        deny('Combined', {Bool: {'aws:SecureTransport': 'false'}, ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER]}}),
      ),
    )
    const https = get(report, 'https-only')
    assert.equal(https.status, 'fail')
    // It does deny something (unlisted callers over HTTP), so the example is a listed one getting through.
    assert.match(
      https.reason,
      /IAM ANDs them, so it denies only a request that is at once over plain HTTP and from a principal not in its aws:PrincipalArn list: .* by a session of (administrator|crawler role) .* is not denied because aws:PrincipalArn ArnNotLike .* is false/,
    )
  })
})

describe('verify: the recommended policy', () => {
  it('passes every policy check, and every check with good bucket settings', () => {
    const policy = present(recommendedPolicy(expected()))
    assert.deepEqual(run(policy).counts, {pass: 5, fail: 0, warn: 0, skipped: 3})
    const live = run(policy, GOOD_SETTINGS)
    assert.deepEqual(live.counts, {pass: 8, fail: 0, warn: 0, skipped: 0})
    assert.equal(live.verdict, 'pass')
    assert.match(
      get(live, 'https-only').reason,
      /^all \d+ simulated plain-HTTP requests \(\d+ kinds of caller, every S3 action, the bucket and every key the exporter writes\) are denied by statements "DenyPlainHttp" \(#1\)/,
    )
    assert.match(
      get(live, 'expected-principals').reason,
      /\d+ simulated HTTPS requests by \d+ kinds of other caller \(every S3 action\) are denied .*the 4 expected principals' sessions are not denied/,
    )
  })

  it('has one statement per rule and exempts the named principals and the exporter tag', () => {
    const policy = recommendedPolicy(expected())
    assert.deepEqual(
      policy.Statement.map(s => [s.Sid, s.Condition]),
      [
        ['DenyPlainHttp', {Bool: {'aws:SecureTransport': 'false'}}],
        ['DenyTlsOlderThan12', {NumericLessThan: {'s3:TlsVersion': '1.2'}}],
        [
          'DenyOutsideKubecostPipeline',
          {
            ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER, QUICKSIGHT]},
            StringNotEquals: {'aws:PrincipalTag/irsa-kubecost-s3-exporter': 'true'},
          },
        ],
        [
          'DenyOtherAccountsUnlessNamed',
          {
            ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER, QUICKSIGHT]},
            StringNotEquals: {'aws:PrincipalAccount': ['111122223333']},
          },
        ],
      ],
    )
    for (const s of policy.Statement) assert.deepEqual(s.Resource, [ARN, `${ARN}/*`])
  })

  it('passes for wildcard SSO administrators, several administrators, and another partition', () => {
    const sso = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_*'
    const withSso = expected({admins: [ADMIN, sso]})
    assert.equal(run(present(recommendedPolicy(withSso)), undefined, withSso).counts.pass, 5)
    const china = expected({
      admins: ['arn:aws-cn:iam::111122223333:role/admin'],
      crawler: 'arn:aws-cn:iam::111122223333:role/crawler',
    })
    const policy = recommendedPolicy(china)
    assert.equal(policy.Statement[0]?.Resource[0], `arn:aws-cn:s3:::${BUCKET}`)
    assert.match(
      JSON.stringify(policy),
      /arn:aws-cn:iam::111122223333:role\/service-role\/aws-quicksight-service-role-v0/,
    )
    assert.equal(run(present(policy), undefined, china).counts.pass, 5)
  })
})

describe('verify: findings', () => {
  it('without a bucket policy: nothing denies HTTP, old TLS or other principals', () => {
    const report = run({state: 'absent'}, GOOD_SETTINGS)
    assert.equal(get(report, 'https-only').reason, 'the bucket has no policy, so nothing denies plain-HTTP requests')
    assert.equal(
      get(report, 'tls-1.2').reason,
      'the bucket has no policy, so nothing denies requests over TLS 1.0 or 1.1',
    )
    assert.match(get(report, 'expected-principals').reason, /no policy, so any role of the account/)
    assert.equal(get(report, 'no-public-allow').status, 'pass')
    assert.equal(report.verdict, 'fail')
  })

  it('with a policy it may not read: warns on the policy checks, and no verdict is reached', () => {
    const report = run({state: 'unreadable', reason: 's3:GetBucketPolicy was denied (AccessDenied)'}, GOOD_SETTINGS)
    assert.deepEqual(report.counts, {pass: 3, fail: 0, warn: 4, skipped: 1})
    assert.match(get(report, 'https-only').reason, /cannot read the bucket policy: s3:GetBucketPolicy was denied/)
    assert.equal(report.verdict, 'inconclusive')
  })

  it('a transport Deny on some actions only does not cover the others', () => {
    const report = run(
      statements(
        deny('HttpGetOnly', {Bool: {'aws:SecureTransport': 'false'}}, {Action: 's3:GetObject'}),
        TLS_DENY,
        OUTSIDERS_DENY,
      ),
    )
    const https = get(report, 'https-only')
    assert.equal(https.status, 'fail')
    assert.match(
      https.reason,
      /statement "HttpGetOnly" \(#1\) is meant to deny plain-HTTP requests but its Action leaves out 88 of the 89 S3 actions on a bucket and its objects: s3:CreateBucket, .* and any S3 action AWS adds later/,
    )
  })

  it('a transport Deny written the wrong way round names the condition that does not hold', () => {
    const report = run(statements(deny('Inverted', {Bool: {'aws:SecureTransport': 'true'}}), TLS_DENY, OUTSIDERS_DENY))
    assert.match(
      get(report, 'https-only').reason,
      /statement "Inverted" \(#1\) does not deny .*: aws:SecureTransport Bool "true" is false \(aws:SecureTransport is "false"\)/,
    )
  })

  it('no Deny about the transport at all', () => {
    const report = run(statements(OUTSIDERS_DENY))
    assert.match(
      get(report, 'https-only').reason,
      /^no Deny statement has a aws:securetransport condition: \d+ of \d+ simulated plain-HTTP requests are not denied, e\.g\. .* by a session of administrator/,
    )
  })

  it('warns, never passes, when the only transport Deny uses an operator it does not know', () => {
    const report = run(
      statements(deny('Typo', {BoolEquals: {'aws:SecureTransport': 'false'}}), TLS_DENY, OUTSIDERS_DENY),
    )
    const https = get(report, 'https-only')
    assert.equal(https.status, 'warn')
    assert.match(
      https.reason,
      /cannot tell whether .* is denied: statement "Typo" \(#1\): condition operator BoolEquals is not one the analyzer knows/,
    )
    assert.ok(https.fix)
    assert.equal(report.verdict, 'warn')
  })

  it('an unknown operator does not matter where a Deny applies for sure', () => {
    const report = run(
      statements(HTTP_DENY, deny('Extra', {BoolEquals: {'aws:SecureTransport': 'false'}}), TLS_DENY, OUTSIDERS_DENY),
    )
    assert.equal(get(report, 'https-only').status, 'pass')
  })

  it('fails when the policy locks out a principal the pipeline needs', () => {
    const report = run(statements(HTTP_DENY, TLS_DENY, deny('DenyPuts', undefined, {Action: 's3:PutObject'})))
    const principals = get(report, 'expected-principals')
    assert.equal(principals.status, 'fail')
    assert.match(
      principals.reason,
      /statement "DenyPuts" \(#3\) denies s3:PutObject on its objects over TLS 1\.3 by a session of administrator .*, which the pipeline needs/,
    )
    assert.ok(
      principals.details.some(d =>
        d.startsWith(
          'locked out: s3:PutObject on its objects over TLS 1.3 by a session of an exporter role of the account tagged irsa-kubecost-s3-exporter=true',
        ),
      ),
    )
  })

  it('fails when another account is allowed in', () => {
    const grant = {
      Sid: 'Partner',
      Effect: 'Allow',
      Principal: {AWS: 'arn:aws:iam::999999999999:root'},
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
    }
    const report = run(statements(HTTP_DENY, TLS_DENY, grant))
    const principals = get(report, 'expected-principals')
    assert.equal(principals.status, 'fail')
    assert.match(
      principals.reason,
      /^s3:GetObject on its objects over TLS 1\.3 by a session of a role of another account \(999999999999\) untagged is allowed by statement "Partner" \(#3\) and no Deny applies; also no Deny statement names the expected principals/,
    )
    assert.ok(
      principals.details.includes(
        'gets through: s3:GetObject on its objects over TLS 1.3 by a session of a role of another account (999999999999) untagged',
      ),
    )
    // The outsiders' Deny exempts any role tagged for the exporter, and the partner account tags its own roles.
    const tagged = get(run(statements(HTTP_DENY, TLS_DENY, OUTSIDERS_DENY, grant)), 'expected-principals')
    assert.equal(tagged.status, 'fail')
    assert.match(
      tagged.reason,
      /tagged irsa-kubecost-s3-exporter=true is allowed by statement "Partner" \(#4\) and no Deny applies \(the tag exemption in statement "DenyOutsiders" \(#3\) is not bound to an account/,
    )
    // Binding the exemption to the bucket's account, as the recommended policy does, keeps the partner out.
    const bound = deny('DenyOtherAccounts', {
      ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER, QUICKSIGHT]},
      StringNotEquals: {'aws:PrincipalAccount': '111122223333'},
    })
    assert.equal(
      get(run(statements(HTTP_DENY, TLS_DENY, OUTSIDERS_DENY, bound, grant)), 'expected-principals').status,
      'pass',
    )
  })

  it('warns when the principal restriction uses a key it does not simulate', () => {
    const report = run(
      statements(HTTP_DENY, TLS_DENY, deny('OrgOnly', {StringNotEquals: {'aws:PrincipalOrgID': 'o-abc123'}})),
    )
    const principals = get(report, 'expected-principals')
    assert.equal(principals.status, 'warn')
    assert.match(principals.reason, /aws:PrincipalOrgID "o-abc123": every account of that organization meets it/)
  })

  describe('Allow for Principal "*"', () => {
    const allow = (Sid: string, Condition?: object) => ({
      Sid,
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
      ...(Condition ? {Condition} : {}),
    })
    const base = [HTTP_DENY, TLS_DENY, OUTSIDERS_DENY]

    it('fails without a condition', () => {
      const check = get(run(statements(...base, allow('Public'))), 'no-public-allow')
      assert.equal(check.status, 'fail')
      assert.match(
        check.reason,
        /^statement "Public" \(#4\) allows Principal "\*" and it has no condition: s3:GetObject on its objects over TLS 1\.3 by a session of a role of another account/,
      )
      assert.match(check.fix ?? '', /aws:PrincipalAccount or aws:PrincipalArn that names your accounts/)
    })

    it('fails with a condition that does not restrict who, such as TLS or a tag anyone can set', () => {
      assert.match(
        get(run(statements(...base, allow('TlsOnly', {Bool: {'aws:SecureTransport': 'true'}}))), 'no-public-allow')
          .reason,
        /its conditions do not keep other accounts out \(aws:SecureTransport is "true"\)/,
      )
      const tagged = get(
        run(
          statements(...base, allow('Tagged', {StringEquals: {'aws:PrincipalTag/irsa-kubecost-s3-exporter': 'true'}})),
        ),
        'no-public-allow',
      )
      assert.equal(tagged.status, 'fail')
      assert.match(
        tagged.reason,
        /by a session of a role of another account \(999999999999\) tagged irsa-kubecost-s3-exporter=true matches it/,
      )
    })

    it('passes with a condition on the account, and warns naming the organization for one on aws:PrincipalOrgID', () => {
      const account = get(
        run(statements(...base, allow('SameAccount', {StringEquals: {'aws:PrincipalAccount': '111122223333'}}))),
        'no-public-allow',
      )
      assert.equal(account.status, 'pass')
      assert.match(account.reason, /"SameAccount" \(#4\) \(by aws:PrincipalAccount\)/)
      const org = get(
        run(statements(...base, allow('Org', {StringEquals: {'aws:PrincipalOrgID': 'o-abc123'}}))),
        'no-public-allow',
      )
      assert.equal(org.status, 'warn')
      assert.match(org.reason, /aws:PrincipalOrgID "o-abc123": every account of that organization meets it/)
    })

    it('warns when the condition uses an operator it does not know', () => {
      const check = get(
        run(statements(...base, allow('Odd', {StringEqualsAnyCase: {'aws:PrincipalAccount': '111122223333'}}))),
        'no-public-allow',
      )
      assert.equal(check.status, 'warn')
      assert.match(check.reason, /StringEqualsAnyCase is not one the analyzer knows/)
    })
  })
})

describe('verify: bucket settings', () => {
  const policy = present(recommendedPolicy(expected()))
  const withSettings = (overrides: Partial<BucketSettings>) => run(policy, {...GOOD_SETTINGS, ...overrides})

  it('default encryption: SSE-S3 and SSE-KMS pass, none fails, unreadable warns', () => {
    assert.equal(get(withSettings({}), 'default-encryption').reason, 'default encryption is SSE-S3 (AES256)')
    const kms = get(
      withSettings({
        encryption: {
          state: 'configured',
          value: [{algorithm: 'aws:kms', kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k'}],
        },
      }),
      'default-encryption',
    )
    assert.equal(kms.reason, 'default encryption is SSE-KMS (aws:kms, key arn:aws:kms:us-east-1:111122223333:key/k)')
    const none = get(withSettings({encryption: {state: 'not-configured'}}), 'default-encryption')
    assert.equal(none.status, 'fail')
    assert.match(none.fix ?? '', /aws s3api put-bucket-encryption --bucket kubecost-data-collection-bucket/)
    assert.equal(
      get(withSettings({encryption: {state: 'configured', value: [{}]}}), 'default-encryption').status,
      'fail',
    )
    assert.equal(
      get(withSettings({encryption: {state: 'unreadable', reason: 'denied'}}), 'default-encryption').status,
      'warn',
    )
  })

  it('public access block: all four on passes, any off or none fails', () => {
    const open = withSettings({
      publicAccessBlock: {
        state: 'configured',
        value: {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false},
      },
    })
    assert.equal(get(open, 'public-access-block').reason, 'BlockPublicPolicy and RestrictPublicBuckets are off')
    assert.equal(open.verdict, 'fail')
    assert.match(
      get(withSettings({publicAccessBlock: {state: 'not-configured'}}), 'public-access-block').reason,
      /no public access block configuration/,
    )
    assert.equal(get(withSettings({}), 'public-access-block').status, 'pass')
  })

  it('object ownership: BucketOwnerEnforced passes, anything else warns', () => {
    const writer = withSettings({objectOwnership: {state: 'configured', value: 'ObjectWriter'}})
    assert.equal(get(writer, 'object-ownership').status, 'warn')
    assert.equal(get(writer, 'object-ownership').reason, 'object ownership is ObjectWriter: ACLs are enabled')
    assert.equal(writer.verdict, 'warn')
    assert.equal(get(withSettings({objectOwnership: {state: 'not-configured'}}), 'object-ownership').status, 'warn')
  })

  it('is inconclusive, not a pass, when the bucket policy could not be read, and fails when a setting failed', () => {
    const unreadable: PolicyState = {
      state: 'unreadable',
      reason: 's3:GetBucketPolicy is not implemented by this S3 endpoint (NotImplemented)',
    }
    const report = run(unreadable, GOOD_SETTINGS)
    assert.deepEqual(report.counts, {pass: 3, fail: 0, warn: 4, skipped: 1})
    assert.equal(report.verdict, 'inconclusive')
    assert.equal(
      verdictLine(report),
      'Verdict: INCONCLUSIVE (no policy check could run: cannot read the bucket policy: s3:GetBucketPolicy is not implemented by this S3 endpoint (NotImplemented)) for bucket kubecost-data-collection-bucket (live bucket settings): 3 passed, 0 failed, 4 warned, 1 skipped',
    )
    for (const strict of [false, true]) {
      const failure = verificationFailure(report, strict)
      assert.ok(failure)
      assert.equal(failure.code, 'POLICY_CHECK_INCONCLUSIVE')
      assert.equal(failure.exitCode, 1)
      assert.match(failure.message, /is inconclusive: no policy check could run: cannot read the bucket policy/)
      assert.match(failure.suggestions[0] ?? '', /analyse it with \{\{flag:policyFile\}\}/)
    }

    const denied = run({state: 'unreadable', reason: 's3:GetBucketPolicy was denied (AccessDenied)'}, GOOD_SETTINGS)
    assert.match(
      verificationFailure(denied, false)?.suggestions[0] ?? '',
      /identity allowed s3:GetBucketPolicy .*or analyse the policy document with \{\{flag:policyFile\}\}/,
    )
    const failed = run(unreadable, {...GOOD_SETTINGS, encryption: {state: 'not-configured'}})
    assert.equal(failed.verdict, 'fail')
    assert.equal(failed.inconclusive, undefined)
    assert.equal(verificationFailure(failed, false)?.code, 'POLICY_CHECK_FAILED')
  })

  it('sums up in one verdict line', () => {
    assert.equal(
      verdictLine(withSettings({})),
      'Verdict: PASS for bucket kubecost-data-collection-bucket (live bucket settings): 8 passed, 0 failed, 0 warned, 0 skipped',
    )
    assert.equal(
      verdictLine(run(policy)),
      'Verdict: PASS for bucket kubecost-data-collection-bucket (policy file policy.json): 5 passed, 0 failed, 0 warned, 3 skipped',
    )
  })
})

describe('expected principals', () => {
  it("defaults the QuickSight role to the account's service role", () => {
    assert.equal(expected().quicksightRole, QUICKSIGHT)
  })

  it('needs at least one principal, and validates ARNs and the tag', () => {
    assert.throws(
      () => expectedPrincipals({bucket: BUCKET, adminRoles: [], exporterTag: {key: 'k', value: 'v'}}),
      (e: unknown) =>
        e instanceof Error &&
        /No expected principals given/.test(e.message) &&
        (e as {exitCode?: number}).exitCode === 2,
    )
    assert.throws(() => parsePrincipalArn('arn:aws:s3:::bucket', {flag: 'crawler-role-arn'}), InvalidInputError)
    assert.throws(
      () => parsePrincipalArn('arn:aws:iam::111122223333:user/alice', {flag: 'crawler-role-arn'}),
      /not an IAM role ARN/,
    )
    assert.throws(
      () => parsePrincipalArn('arn:aws:iam::111122223333:role/x*', {flag: 'crawler-role-arn'}),
      /wildcards are not allowed/,
    )
    assert.equal(
      parsePrincipalArn(' arn:aws:iam::111122223333:user/alice ', {flag: 'a'}, {users: true}).arn,
      'arn:aws:iam::111122223333:user/alice',
    )
    assert.throws(() => parseExporterTag('no-value', {flag: 'exporter-tag'}), /must be KEY=VALUE/)
    assert.deepEqual(parseExporterTag('team = data', {flag: 'exporter-tag'}), {key: 'team', value: 'data'})
  })
})
