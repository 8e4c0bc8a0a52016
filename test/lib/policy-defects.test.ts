import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  type Check,
  type CheckId,
  type PolicyState,
  type VerificationReport,
  verify,
} from '../../src/lib/policy/analyze.js'
import {PolicyDocumentError, parsePolicy} from '../../src/lib/policy/document.js'
import {coversAllWithPrefix, globMatches, matchesSomeWithPrefix} from '../../src/lib/policy/match.js'
import {
  type ExpectedPrincipals,
  expectedPrincipals,
  parseAccountId,
  parseExporterTag,
  parsePrincipalArn,
} from '../../src/lib/policy/principals.js'
import {recommendedPolicy} from '../../src/lib/policy/recommended.js'
import {named} from '../settings.js'

/**
 * The cases a security review found passing although unsafe, and cases from IAM's documented
 * evaluation logic. The base is the previous recommended policy: its tag exemption is not bound to
 * an account.
 */

const BUCKET = 'kubecost-data-collection-bucket'
const ARN = `arn:aws:s3:::${BUCKET}`
const ACCOUNT = '111122223333'
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/bucket-admin`
const CRAWLER = `arn:aws:iam::${ACCOUNT}:role/kubecost_glue_crawler_role`
const QUICKSIGHT = `arn:aws:iam::${ACCOUNT}:role/service-role/aws-quicksight-service-role-v0`
const EXPORTER = `arn:aws:iam::${ACCOUNT}:role/kubecost-s3-exporter`
const TAG = 'aws:PrincipalTag/irsa-kubecost-s3-exporter'

function expected(
  options: {crawler?: boolean; exporterAccounts?: string[]; prefix?: string; quicksight?: string} = {},
): ExpectedPrincipals {
  const arn = (value: string) => parsePrincipalArn(value, {flag: 'test'}, {users: true, wildcards: true})
  return expectedPrincipals({
    bucket: BUCKET,
    adminRoles: [arn(ADMIN)],
    ...(options.crawler === false ? {} : {crawlerRole: arn(CRAWLER)}),
    ...(options.quicksight ? {quicksightRole: arn(options.quicksight)} : {}),
    exporterTag: parseExporterTag('irsa-kubecost-s3-exporter=true', {flag: 'exporter-tag'}),
    exporterAccounts: options.exporterAccounts ?? [],
    prefix: options.prefix ?? '',
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
const PRINCIPALS = {ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER, QUICKSIGHT]}, StringNotEquals: {[TAG]: 'true'}}
const OUTSIDERS_DENY = deny('DenyOutsiders', PRINCIPALS)
const ACCOUNT_DENY = deny('DenyOtherAccounts', {
  ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER, QUICKSIGHT]},
  StringNotEquals: {'aws:PrincipalAccount': ACCOUNT},
})
/** The previous recommended policy. */
const OLD = [HTTP_DENY, TLS_DENY, OUTSIDERS_DENY]
const publicAllow = (Condition: object, Action = 's3:GetObject') => ({
  Sid: 'Open',
  Effect: 'Allow',
  Principal: '*',
  Action,
  Resource: `${ARN}/*`,
  Condition,
})

function run(policy: PolicyState, who = expected()): VerificationReport {
  return verify(who, policy, undefined, {kind: 'file', path: 'policy.json'})
}

function get(report: VerificationReport, id: CheckId): Check {
  const found = report.checks.find(c => c.id === id)
  assert.ok(found, id)
  return found
}

describe('case 1: cross-account grants', () => {
  it('fails a root-ARN grant to another account: its tagged roles pass the tag exemption', () => {
    const grant = {
      Effect: 'Allow',
      Principal: {AWS: 'arn:aws:iam::999988887777:root'},
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
    }
    const report = run(statements(...OLD, grant))
    const check = get(report, 'expected-principals')
    assert.equal(check.status, 'fail')
    assert.match(
      check.reason,
      /^s3:GetObject on its objects over TLS 1\.3 by a session of a role of another account \(999988887777\) tagged irsa-kubecost-s3-exporter=true is allowed by statement #4 and no Deny applies \(the tag exemption in statement "DenyOutsiders" \(#3\) is not bound to an account/,
    )
    assert.equal(report.verdict, 'fail')
  })

  it('fails a bare account id principal granted only s3:ListBucket', () => {
    const grant = {Effect: 'Allow', Principal: {AWS: '999988887777'}, Action: 's3:ListBucket', Resource: ARN}
    const check = get(run(statements(...OLD, grant)), 'expected-principals')
    assert.equal(check.status, 'fail')
    assert.match(
      check.reason,
      /^s3:ListBucket on the bucket over TLS 1\.3 by a session of a role of another account \(999988887777\) tagged irsa-kubecost-s3-exporter=true is allowed by statement #4/,
    )
  })

  it('passes the same grant once the exemption is bound to the account', () => {
    const grant = {
      Effect: 'Allow',
      Principal: {AWS: 'arn:aws:iam::999988887777:root'},
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
    }
    assert.equal(get(run(statements(...OLD, ACCOUNT_DENY, grant)), 'expected-principals').status, 'pass')
  })
})

describe('case 2: tags are not identity', () => {
  it('fails an Allow for "*" conditioned only on a principal tag', () => {
    const report = run(statements(...OLD, publicAllow({StringEquals: {'aws:PrincipalTag/team': 'finops'}})))
    const check = get(report, 'no-public-allow')
    assert.equal(check.status, 'fail')
    assert.match(
      check.reason,
      /^statement "Open" \(#4\) allows Principal "\*" and its conditions do not keep other accounts out \(aws:PrincipalTag\/team is "finops"\): .* by a session of a role of another account \(999999999999\) tagged team=finops matches it/,
    )
  })
})

describe('case 3: Deny coverage is decided for every action and every key, not for samples', () => {
  it('fails a principal Deny that lists just six actions, naming what it leaves out', () => {
    const six = deny('Six', PRINCIPALS, {
      Action: [
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        's3:ListBucket',
        's3:GetBucketLocation',
        's3:PutBucketPolicy',
      ],
    })
    const check = get(run(statements(HTTP_DENY, TLS_DENY, six)), 'expected-principals')
    assert.equal(check.status, 'fail')
    assert.match(
      check.reason,
      /^statement "Six" \(#3\) is meant to deny HTTPS requests by principals outside the expected set but its Action leaves out 83 of the 89 S3 actions on a bucket and its objects: .* and any S3 action AWS adds later/,
    )
  })

  it('fails a plain-HTTP Deny written as NotAction, naming the two actions it lets through', () => {
    const notAction = {
      Sid: 'NotAct',
      Effect: 'Deny',
      Principal: '*',
      NotAction: ['s3:GetObjectVersion', 's3:ListBucketVersions'],
      Resource: [ARN, `${ARN}/*`],
      Condition: {Bool: {'aws:SecureTransport': 'false'}},
    }
    const check = get(run(statements(notAction, TLS_DENY, OUTSIDERS_DENY, ACCOUNT_DENY)), 'https-only')
    assert.equal(check.status, 'fail')
    assert.match(
      check.reason,
      /^statement "NotAct" \(#1\) is meant to deny plain-HTTP requests but its NotAction leaves out 2 of the 89 S3 actions on a bucket and its objects: s3:ListBucketVersions, s3:GetObjectVersion;/,
    )
  })

  it('fails Denies whose Resource covers one region only, naming a key of another region', () => {
    const regional = [ARN, `${ARN}/account_id=${ACCOUNT}/region=us-east-1/*`]
    const report = run(
      statements(
        deny('Http', {Bool: {'aws:SecureTransport': 'false'}}, {Resource: regional}),
        deny('Tls', {NumericLessThan: {'s3:TlsVersion': '1.2'}}, {Resource: regional}),
        deny('Who', PRINCIPALS, {Resource: regional}),
      ),
    )
    for (const id of ['https-only', 'tls-1.2', 'expected-principals'] as const) {
      const check = get(report, id)
      assert.equal(check.status, 'fail', id)
      assert.match(
        check.reason,
        /does not cover every key the exporter writes .*, e\.g\. arn:aws:s3:::kubecost-data-collection-bucket\/account_id=111122223333\/region=eu-west-1\/year=2026\/month=01\/.*; the fix is the Resource/,
        id,
      )
    }
  })

  it('fails a Deny that covers the keys without --prefix but not those under it', () => {
    const rooted = deny('Http', {Bool: {'aws:SecureTransport': 'false'}}, {Resource: [ARN, `${ARN}/account_id=*`]})
    const withoutPrefix = run(statements(rooted, TLS_DENY, OUTSIDERS_DENY, ACCOUNT_DENY))
    assert.equal(get(withoutPrefix, 'https-only').status, 'pass')
    const underPrefix = get(
      run(statements(rooted, TLS_DENY, OUTSIDERS_DENY, ACCOUNT_DENY), expected({prefix: 'kubecost/prod'})),
      'https-only',
    )
    assert.equal(underPrefix.status, 'fail')
    assert.match(
      underPrefix.reason,
      /arn:aws:s3:::kubecost-data-collection-bucket\/kubecost\/prod\/account_id=<any account>/,
    )
  })

  it('fails a Resource for another bucket, saying the fix is the Resource', () => {
    const other = deny(
      'Other',
      {Bool: {'aws:SecureTransport': 'false'}},
      {Resource: ['arn:aws:s3:::other-bucket', 'arn:aws:s3:::other-bucket/*']},
    )
    const check = get(run(statements(other, TLS_DENY, OUTSIDERS_DENY, ACCOUNT_DENY)), 'https-only')
    assert.match(
      check.reason,
      /its Resource \["arn:aws:s3:::other-bucket", "arn:aws:s3:::other-bucket\/\*"\] does not match bucket kubecost-data-collection-bucket at all; the fix is the Resource/,
    )
  })

  it('warns when every listed action is denied but not actions AWS adds later', () => {
    const prefixes = [
      's3:Get*',
      's3:Put*',
      's3:List*',
      's3:Delete*',
      's3:Create*',
      's3:Abort*',
      's3:Bypass*',
      's3:Initiate*',
      's3:Object*',
      's3:Replicate*',
      's3:Restore*',
      's3:Tag*',
      's3:Untag*',
    ]
    const check = get(
      run(
        statements(
          deny('Http', {Bool: {'aws:SecureTransport': 'false'}}, {Action: prefixes}),
          TLS_DENY,
          OUTSIDERS_DENY,
          ACCOUNT_DENY,
        ),
      ),
      'https-only',
    )
    assert.equal(check.status, 'warn')
    assert.match(
      check.reason,
      /^every S3 action this tool lists is denied for plain-HTTP requests, but not actions AWS adds later/,
    )
  })
})

describe('case 4: only conditions that bind the account restrict', () => {
  const cases: Array<[string, object, string, RegExp]> = [
    [
      'aws:SourceIp 0.0.0.0/0',
      {IpAddress: {'aws:SourceIp': '0.0.0.0/0'}},
      's3:GetObject',
      /"0\.0\.0\.0\/0" contains every address/,
    ],
    ['aws:Referer *', {StringLike: {'aws:Referer': '*'}}, 's3:GetObject', /aws:Referer is set by the caller/],
    [
      'aws:PrincipalOrgID o-*',
      {StringLike: {'aws:PrincipalOrgID': 'o-*'}},
      's3:GetObject',
      /aws:PrincipalOrgID "o-\*" is a wildcard any caller can meet/,
    ],
    [
      'an aws:userid wildcard',
      {StringLike: {'aws:userid': 'AROA*:*'}},
      's3:GetObject',
      /aws:userid "AROA\*:\*" is a wildcard any caller can meet/,
    ],
    [
      's3:x-amz-acl on PutObject',
      {StringEquals: {'s3:x-amz-acl': 'bucket-owner-full-control'}},
      's3:PutObject',
      /s3:x-amz-acl is set by the caller/,
    ],
  ]
  for (const [what, condition, action, because] of cases) {
    it(`fails an Allow for "*" conditioned on ${what}`, () => {
      const check = get(run(statements(...OLD, ACCOUNT_DENY, publicAllow(condition, action))), 'no-public-allow')
      assert.equal(check.status, 'fail')
      assert.match(
        check.reason,
        /^statement "Open" \(#5\) allows Principal "\*" and its conditions do not keep other accounts out/,
      )
      assert.match(check.reason, because)
    })
  }

  it('warns, never passes, on a key it cannot know: a source IP range, a VPC endpoint, a concrete organization', () => {
    for (const condition of [
      {IpAddress: {'aws:SourceIp': '203.0.113.0/24'}},
      {StringEquals: {'aws:SourceVpce': 'vpce-1a2b3c4d'}},
      {StringEquals: {'aws:PrincipalOrgID': 'o-abc123'}},
    ]) {
      const check = get(run(statements(...OLD, ACCOUNT_DENY, publicAllow(condition))), 'no-public-allow')
      assert.equal(check.status, 'warn', JSON.stringify(condition))
    }
  })

  it('passes an Allow for "*" bound to the account by aws:PrincipalAccount or aws:PrincipalArn', () => {
    assert.equal(
      get(
        run(statements(...OLD, ACCOUNT_DENY, publicAllow({StringEquals: {'aws:PrincipalAccount': ACCOUNT}}))),
        'no-public-allow',
      ).status,
      'pass',
    )
    assert.equal(
      get(
        run(
          statements(
            ...OLD,
            ACCOUNT_DENY,
            publicAllow({ArnLike: {'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/*`}}),
          ),
        ),
        'no-public-allow',
      ).status,
      'pass',
    )
  })

  it('warns on an Allow to a service without aws:SourceAccount (confused deputy), passes with it', () => {
    const service = (Condition?: object) => ({
      Sid: 'Logs',
      Effect: 'Allow',
      Principal: {Service: 'logging.s3.amazonaws.com'},
      Action: 's3:PutObject',
      Resource: `${ARN}/*`,
      ...(Condition ? {Condition} : {}),
    })
    // Denies for principals outside the pipeline that leave AWS services to the Allow.
    const notServices = {Bool: {'aws:PrincipalIsAWSService': 'false'}}
    const denies = [
      HTTP_DENY,
      TLS_DENY,
      deny('Who', {...PRINCIPALS, ...notServices}),
      deny('Accounts', {...ACCOUNT_DENY.Condition, ...notServices}),
    ]
    const loose = get(run(statements(...denies, service())), 'expected-principals')
    assert.equal(loose.status, 'warn')
    assert.match(
      loose.reason,
      /AWS service logging\.s3\.amazonaws\.com acting for another account .* is allowed by statement "Logs" \(#5\), which names the service without an aws:SourceAccount or aws:SourceArn condition \(confused deputy/,
    )
    const bound = get(
      run(statements(...denies, service({StringEquals: {'aws:SourceAccount': ACCOUNT}}))),
      'expected-principals',
    )
    assert.equal(bound.status, 'pass')
  })
})

describe('case 5: locking the pipeline out', () => {
  it('fails a NotPrincipal Deny that lists only the role ARNs: their sessions are denied', () => {
    const notPrincipal = {
      Effect: 'Deny',
      NotPrincipal: {AWS: [ADMIN, CRAWLER, QUICKSIGHT, EXPORTER]},
      Action: 's3:*',
      Resource: [ARN, `${ARN}/*`],
    }
    const check = get(run(statements(HTTP_DENY, TLS_DENY, notPrincipal)), 'expected-principals')
    assert.equal(check.status, 'fail')
    assert.match(
      check.reason,
      /statement #3 denies s3:ListBucket on the bucket over TLS 1\.3 by a session of administrator arn:aws:iam::111122223333:role\/bucket-admin, which the pipeline needs \(NotPrincipal exempts only the identities it lists, and IAM matches the session ARN arn:aws:sts::111122223333:assumed-role\/bucket-admin\/<session> with the account/,
    )
    assert.match(check.reason, /it also locks out every bucket administrator \(1\)/)
    assert.ok(check.details.some(d => /^locked out: .* by a session of crawler role/.test(d)))
  })

  it('does not lock out a session that NotPrincipal lists with its account', () => {
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/bucket-admin/admin-session`
    const notPrincipal = {
      Effect: 'Deny',
      NotPrincipal: {AWS: [session, `arn:aws:iam::${ACCOUNT}:root`]},
      Action: 's3:PutBucketPolicy',
      Resource: ARN,
    }
    const check = get(
      run(statements(HTTP_DENY, TLS_DENY, OUTSIDERS_DENY, ACCOUNT_DENY, notPrincipal)),
      'expected-principals',
    )
    assert.doesNotMatch(check.reason, /administrator .* which the pipeline needs/)
  })

  it('says which pipeline role the policy would lock out when --crawler-role-arn is not given', () => {
    const who = expected({crawler: false})
    const check = get(run(present(recommendedPolicy(who)), who), 'expected-principals')
    assert.equal(check.status, 'warn')
    assert.match(
      named(check.reason, 'verify-bucket-policy'),
      /no --crawler-role-arn \(CRAWLER_ROLE_ARN\) was given, and statements? .* denies every role of the account it does not name, so it would lock out the Glue crawler/,
    )
  })

  it('names the default QuickSight role when --quicksight-role-arn is not given and that role is denied', () => {
    const custom = 'arn:aws:iam::111122223333:role/my-quicksight'
    // A policy made for a custom QuickSight role, checked without the flag: the default role is locked out.
    const policy = present(recommendedPolicy(expected({quicksight: custom})))
    const check = get(run(policy), 'expected-principals')
    assert.equal(check.status, 'fail')
    assert.match(
      named(check.reason, 'verify-bucket-policy'),
      /QuickSight role .*aws-quicksight-service-role-v0.*that is the default QuickSight role, as no --quicksight-role-arn \(QUICKSIGHT_ROLE_ARN\) was given/,
    )
  })
})

/** CPU milliseconds this process has spent since `since` (a process.cpuUsage() reading). */
function cpuMs(since: NodeJS.CpuUsage): number {
  const {user, system} = process.cpuUsage(since)
  return Math.round((user + system) / 1000)
}

describe('case 6: hostile documents fail closed', () => {
  it('matches wildcards in linear time: a 20 KB adversarial pattern takes well under a second', () => {
    const pattern = `${ARN}/${'*a'.repeat(10_000)}Z`
    assert.ok(pattern.length > 20_000)
    const value = `${ARN}/${'a'.repeat(2_000)}`
    const started = process.cpuUsage()
    assert.equal(globMatches(pattern, value), false)
    assert.equal(coversAllWithPrefix(pattern, `${ARN}/account_id=`), false)
    assert.equal(matchesSomeWithPrefix(pattern, `${ARN}/account_id=`), true)
    assert.equal(globMatches(`${ARN}/${'*'.repeat(6)}Z`, `${ARN}/${'x'.repeat(5_000)}`), false)
    // CPU time, which a busy machine does not stretch as it does the wall clock (measured: under 10 ms).
    assert.ok(cpuMs(started) < 1000, `${cpuMs(started)} ms of CPU`)
  })

  it('analyses a policy with a six-star Resource in well under a second', () => {
    const started = process.cpuUsage()
    run(statements(...OLD, deny('Stars', {Bool: {'aws:SecureTransport': 'false'}}, {Resource: `${ARN}/******Z`})))
    // Measured: about 0.5 s of CPU.
    assert.ok(cpuMs(started) < 5000, `${cpuMs(started)} ms of CPU`)
  })

  it('refuses 20,000 nested lists with a location, as bad input (exit 2), without overflowing the stack', () => {
    assert.throws(
      () => parsePolicy(`{"Statement": ${'['.repeat(20_000)}`, 'test policy'),
      (e: unknown) =>
        e instanceof PolicyDocumentError &&
        e.exitCode === 2 &&
        /is not valid JSON: line 1, column \d+ \(Statement(\[0\])+\): nested more than 64 levels deep/.test(e.message),
    )
  })

  it("fails a valid policy over S3's 20 KB limit", () => {
    const many = Array.from({length: 60}, (_, i) =>
      deny(`Padding${i}${'x'.repeat(400)}`, {Bool: {'aws:SecureTransport': 'false'}}),
    )
    const report = run(statements(...OLD, ACCOUNT_DENY, ...many))
    const size = get(report, 'policy-size')
    assert.equal(size.status, 'fail')
    assert.match(
      size.reason,
      /^the policy is \d{5} bytes without whitespace; S3 refuses bucket policies over 20480 bytes \(20 KB\)/,
    )
    assert.equal(report.verdict, 'fail')
  })
})

describe('IAM evaluation logic', () => {
  const safe = [HTTP_DENY, TLS_DENY, OUTSIDERS_DENY, ACCOUNT_DENY]

  it('matches actions case-insensitively: "S3:*" and "s3:getobject" are s3:* and s3:GetObject', () => {
    const upper = run(
      statements(
        deny('Http', {Bool: {'aws:SecureTransport': 'false'}}, {Action: 'S3:*'}),
        TLS_DENY,
        OUTSIDERS_DENY,
        ACCOUNT_DENY,
      ),
    )
    assert.equal(get(upper, 'https-only').status, 'pass')
    const lower = get(
      run(statements(...safe, {Effect: 'Allow', Principal: '*', Action: 's3:getobject', Resource: `${ARN}/*`})),
      'no-public-allow',
    )
    assert.equal(lower.status, 'fail')
  })

  it('treats "s3:Get*" as a pattern over every Get action, not only the listed ones', () => {
    const check = get(
      run(
        statements(
          deny('Http', {Bool: {'aws:SecureTransport': 'false'}}, {Action: 's3:Get*'}),
          TLS_DENY,
          OUTSIDERS_DENY,
          ACCOUNT_DENY,
        ),
      ),
      'https-only',
    )
    assert.equal(check.status, 'fail')
    assert.match(check.reason, /leaves out \d+ of the 89 S3 actions/)
    assert.doesNotMatch(check.reason, /s3:GetObject[,;]/)
  })

  it('NotPrincipal with Allow allows everyone it does not list, anonymous callers too', () => {
    const allow = {
      Sid: 'AllButOne',
      Effect: 'Allow',
      NotPrincipal: {AWS: ADMIN},
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
    }
    const check = get(run(statements(...safe, allow)), 'no-public-allow')
    assert.equal(check.status, 'fail')
    assert.match(check.reason, /allows NotPrincipal \(everyone it does not list\) and it has no condition/)
  })

  it("NotPrincipal with Deny denies everyone it does not list, the roles' sessions too", () => {
    const denyAll = {
      Effect: 'Deny',
      NotPrincipal: {AWS: [CRAWLER, `arn:aws:iam::${ACCOUNT}:root`]},
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
    }
    const check = get(run(statements(...safe, denyAll)), 'expected-principals')
    assert.equal(check.status, 'fail')
    assert.match(
      check.reason,
      /denies s3:GetObject on its objects over TLS 1\.3 by a session of (administrator|crawler role)/,
    )
  })

  it('StringNotEqualsIfExists holds on a missing key: an anonymous caller has no aws:PrincipalAccount', () => {
    const ifExists = deny('OnlyAccount', {StringNotEqualsIfExists: {'aws:PrincipalAccount': ACCOUNT}})
    // Without IfExists the missing key also holds for a negated operator; both deny the anonymous caller.
    for (const statement of [ifExists, deny('OnlyAccount', {StringNotEquals: {'aws:PrincipalAccount': ACCOUNT}})]) {
      const report = run(
        statements(...safe.slice(0, 3), statement, {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `${ARN}/*`,
        }),
      )
      assert.doesNotMatch(get(report, 'expected-principals').reason, /an anonymous caller/)
    }

    // StringEqualsIfExists in a Deny applies to the caller without the key: it is not a restriction for anonymous callers.
    const positive = run(
      statements(...safe, {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `${ARN}/*`,
        Condition: {StringEqualsIfExists: {'aws:PrincipalAccount': ACCOUNT}},
      }),
    )
    assert.equal(get(positive, 'no-public-allow').status, 'fail')
    assert.match(get(positive, 'no-public-allow').reason, /by an anonymous caller matches it/)
  })

  it('reads Bool with a JSON boolean literal', () => {
    const literal = {
      Sid: 'Http',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [ARN, `${ARN}/*`],
      Condition: {Bool: {'aws:SecureTransport': false}},
    }
    assert.equal(get(run(statements(literal, TLS_DENY, OUTSIDERS_DENY, ACCOUNT_DENY)), 'https-only').status, 'pass')
  })

  it('covers the bucket and its objects with a wildcard bucket Resource, and says when the bucket ARN is left out', () => {
    assert.equal(
      get(
        run(
          statements(
            deny('Http', {Bool: {'aws:SecureTransport': 'false'}}, {Resource: 'arn:aws:s3:::kubecost-*'}),
            TLS_DENY,
            OUTSIDERS_DENY,
            ACCOUNT_DENY,
          ),
        ),
        'https-only',
      ).status,
      'pass',
    )
    const objectsOnly = get(
      run(
        statements(
          deny('Http', {Bool: {'aws:SecureTransport': 'false'}}, {Resource: 'arn:aws:s3:::*/*'}),
          TLS_DENY,
          OUTSIDERS_DENY,
          ACCOUNT_DENY,
        ),
      ),
      'https-only',
    )
    assert.equal(objectsOnly.status, 'fail')
    assert.match(
      objectsOnly.reason,
      /does not match the bucket ARN arn:aws:s3:::kubecost-data-collection-bucket; the fix is the Resource/,
    )
  })

  it('treats Principal {"AWS": "*"} like "*": both are public', () => {
    for (const Principal of ['*', {AWS: '*'}]) {
      const check = get(
        run(statements(...safe, {Sid: 'Open', Effect: 'Allow', Principal, Action: 's3:ListBucket', Resource: ARN})),
        'no-public-allow',
      )
      assert.equal(check.status, 'fail', JSON.stringify(Principal))
      assert.match(check.reason, /an anonymous caller matches it|another account/)
    }
  })

  it('reads a Statement given as one object, not a list', () => {
    const one = present({
      Version: '2012-10-17',
      Statement: {Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${ARN}/*`},
    })
    assert.equal(get(run(one), 'no-public-allow').status, 'fail')
    assert.equal(get(run(one), 'https-only').status, 'fail')
  })

  it('accepts Version 2008-10-17 and evaluates it the same way', () => {
    const old = present({Version: '2008-10-17', Statement: safe})
    const report = run(old)
    assert.deepEqual(
      [get(report, 'https-only').status, get(report, 'tls-1.2').status, get(report, 'expected-principals').status],
      ['pass', 'pass', 'pass'],
    )
  })

  it("a Deny matching the crawler's role name in any account does not exempt other accounts", () => {
    const anyAccount = deny('Who', {
      ArnNotLike: {'aws:PrincipalArn': [ADMIN, 'arn:aws:iam::*:role/kubecost_glue_crawler_role', QUICKSIGHT]},
      StringNotEquals: {'aws:PrincipalAccount': ACCOUNT},
    })
    const grant = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `${ARN}/*`,
      Condition: {ArnLike: {'aws:PrincipalArn': 'arn:aws:iam::*:role/kubecost_glue_crawler_role'}},
    }
    const check = get(run(statements(HTTP_DENY, TLS_DENY, OUTSIDERS_DENY, anyAccount, grant)), 'no-public-allow')
    assert.equal(check.status, 'fail')
    assert.match(check.reason, /kubecost_glue_crawler_role \(an expected role's name in another account\) matches it/)
  })
})

describe('the recommended policy', () => {
  it("binds the tag exemption to the bucket's account and passes its own analysis without a warning", () => {
    const policy = recommendedPolicy(expected())
    const bound = policy.Statement.find(s => s.Sid === 'DenyOtherAccountsUnlessNamed')
    assert.deepEqual(bound?.Condition, {
      ArnNotLike: {'aws:PrincipalArn': [ADMIN, CRAWLER, QUICKSIGHT]},
      StringNotEquals: {'aws:PrincipalAccount': [ACCOUNT]},
    })
    const report = run(present(policy))
    assert.deepEqual(report.counts, {pass: 5, fail: 0, warn: 0, skipped: 3})
  })

  it('with --exporter-account: binds to both accounts, allows their tagged exporters, and passes', () => {
    const who = expected({exporterAccounts: ['444455556666'], prefix: 'kubecost'})
    const policy = recommendedPolicy(who)
    const allow = policy.Statement.find(s => s.Effect === 'Allow')
    assert.deepEqual(allow?.Principal, {AWS: ['arn:aws:iam::444455556666:root']})
    assert.deepEqual(allow?.Resource, [ARN, `${ARN}/kubecost/account_id=*`])
    assert.deepEqual(allow?.Condition, {StringEquals: {[TAG]: 'true'}})
    const report = run(present(policy), who)
    assert.deepEqual(
      report.counts,
      {pass: 5, fail: 0, warn: 0, skipped: 3},
      JSON.stringify(report.checks.filter(c => c.status !== 'pass' && c.status !== 'skipped')),
    )
    // The same policy without the Allow locks the other account's exporter out.
    const withoutAllow = present({...policy, Statement: policy.Statement.filter(s => s.Effect === 'Deny')})
    const locked = get(run(withoutAllow, who), 'expected-principals')
    assert.equal(locked.status, 'fail')
    assert.match(
      locked.reason,
      /no Allow statement grants s3:\w+ .* by a session of an exporter role of exporter account 444455556666/,
    )
  })

  it('validates --exporter-account as 12 digits', () => {
    assert.equal(parseAccountId(' 444455556666 ', {flag: 'exporter-account'}), '444455556666')
    assert.throws(
      () => parseAccountId('4444-5555-6666', {flag: 'exporter-account', env: 'EXPORTER_ACCOUNTS'}),
      /Invalid --exporter-account \(EXPORTER_ACCOUNTS\) "4444-5555-6666": an AWS account id is 12 digits/,
    )
  })
})
