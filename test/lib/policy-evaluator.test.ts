import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {type ConditionKeys, evaluateCondition, parseOperator} from '../../src/lib/policy/conditions.js'
import {parsePolicy} from '../../src/lib/policy/document.js'
import {type Caller, type Request, evaluate} from '../../src/lib/policy/evaluator.js'
import {type Tri, and, arnMatches, globMatches, or} from '../../src/lib/policy/match.js'

type Context = Record<string, string | string[]>

function keys(context: Context, unmodelled: string[] = []): ConditionKeys {
  const lower = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), typeof v === 'string' ? [v] : v]))
  return {
    get: key => lower.get(key),
    kind: key => (lower.has(key) ? 'known' : unmodelled.includes(key) ? 'unknown' : 'missing'),
  }
}

/** One condition entry against a request context; a key absent from `context` is missing. */
function cond(
  operator: string,
  key: string,
  values: string | string[],
  context: Context = {},
  unmodelled: string[] = [],
): Tri {
  return evaluateCondition({operator, key, values: [values].flat()}, keys(context, unmodelled)).result
}

type Row = [operator: string, policy: string | string[], request: string | string[] | undefined, expected: Tri]

function table(key: string, rows: Row[]): void {
  for (const [operator, policy, request, expected] of rows) {
    const context: Context = request === undefined ? {} : {[key]: request}
    const shown = request === undefined ? 'missing' : JSON.stringify(request)
    it(`${operator} ${JSON.stringify(policy)} with ${key} ${shown} is ${expected}`, () => {
      assert.equal(cond(operator, key, policy, context), expected)
    })
  }
}

describe('condition operators', () => {
  describe('String*', () => {
    table('aws:PrincipalTag/team', [
      ['StringEquals', 'data', 'data', true],
      ['StringEquals', 'data', 'Data', false],
      ['StringNotEquals', 'data', 'web', true],
      ['StringNotEquals', 'data', 'data', false],
      ['StringEqualsIgnoreCase', 'data', 'DATA', true],
      ['StringEqualsIgnoreCase', 'data', 'web', false],
      ['StringNotEqualsIgnoreCase', 'data', 'DATA', false],
      ['StringNotEqualsIgnoreCase', 'data', 'web', true],
      ['StringLike', 'team-*', 'team-a/b', true],
      ['StringLike', 'team-?', 'team-ab', false],
      ['StringLike', 'team-?', 'team-a', true],
      ['StringLike', 'Team-*', 'team-a', false],
      ['StringNotLike', 'team-*', 'other', true],
      ['StringNotLike', 'team-*', 'team-x', false],
    ])
  })

  describe('Numeric* (s3:TlsVersion)', () => {
    table('s3:TlsVersion', [
      ['NumericEquals', '1.2', '1.20', true],
      ['NumericNotEquals', '1.2', '1.3', true],
      ['NumericNotEquals', '1.2', '1.2', false],
      ['NumericLessThan', '1.2', '1.1', true],
      ['NumericLessThan', '1.2', '1.2', false],
      ['NumericLessThanEquals', '1.2', '1.2', true],
      ['NumericLessThanEquals', '1.2', '1.3', false],
      ['NumericGreaterThan', '1.2', '1.3', true],
      ['NumericGreaterThan', '1.2', '1.2', false],
      ['NumericGreaterThanEquals', '1.2', '1.2', true],
      ['NumericGreaterThanEquals', '1.2', '1.0', false],
      ['NumericLessThan', '1.2', 'not-a-number', false],
    ])
  })

  describe('Date*', () => {
    table('aws:CurrentTime', [
      ['DateEquals', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z', true],
      ['DateNotEquals', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', true],
      ['DateLessThan', '2026-01-01T00:00:00Z', '2025-12-31T23:59:59Z', true],
      ['DateLessThan', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', false],
      ['DateLessThanEquals', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', true],
      ['DateGreaterThan', '1767225600', '2026-06-01T00:00:00Z', true],
      ['DateGreaterThanEquals', '2026-01-01T00:00:00Z', '2025-01-01T00:00:00Z', false],
    ])
  })

  describe('Bool, BinaryEquals', () => {
    table('aws:SecureTransport', [
      ['Bool', 'false', 'false', true],
      ['Bool', 'false', 'true', false],
      ['Bool', 'FALSE', 'false', true],
      ['Bool', 'true', 'True', true],
    ])
    table('s3:x-amz-content-sha256', [
      ['BinaryEquals', 'QmluYXJ5VmFsdWU=', 'QmluYXJ5VmFsdWU=', true],
      ['BinaryEquals', 'QmluYXJ5VmFsdWU=', 'b3RoZXI=', false],
    ])
  })

  describe('IpAddress, NotIpAddress', () => {
    table('aws:SourceIp', [
      ['IpAddress', '10.0.0.0/8', '10.1.2.3', true],
      ['IpAddress', '10.0.0.0/8', '11.0.0.1', false],
      ['IpAddress', '203.0.113.7', '203.0.113.7', true],
      ['IpAddress', ['192.0.2.0/24', '10.0.0.0/8'], '10.9.9.9', true],
      ['IpAddress', '2001:db8::/32', '2001:db8:1::5', true],
      ['IpAddress', '2001:db8::/32', '2001:db9::1', false],
      ['IpAddress', '2001:db8::/32', '10.0.0.1', false],
      ['NotIpAddress', '10.0.0.0/8', '192.0.2.1', true],
      ['NotIpAddress', '10.0.0.0/8', '10.0.0.1', false],
    ])
  })

  describe('Arn*', () => {
    table('aws:PrincipalArn', [
      ['ArnEquals', 'arn:aws:iam::111122223333:role/admin', 'arn:aws:iam::111122223333:role/admin', true],
      ['ArnEquals', 'arn:aws:iam::111122223333:role/admin', 'arn:aws:iam::111122223333:role/admin2', false],
      ['ArnLike', 'arn:aws:iam::*:role/kubecost-*', 'arn:aws:iam::444455556666:role/kubecost-exporter', true],
      ['ArnLike', 'arn:aws:iam::111122223333:role/*', 'arn:aws:iam::999999999999:role/x', false],
      // Each colon-separated part is matched on its own: the account's * cannot swallow a colon.
      ['ArnLike', 'arn:aws:iam::*:role/x', 'arn:aws:iam::1:2:role/x', false],
      ['ArnLike', 'arn:aws:iam::111122223333:role/*', 'not-an-arn', false],
      ['ArnNotEquals', 'arn:aws:iam::111122223333:role/admin', 'arn:aws:iam::111122223333:role/other', true],
      [
        'ArnNotLike',
        ['arn:aws:iam::111122223333:role/admin', 'arn:aws:iam::111122223333:role/kubecost-*'],
        'arn:aws:iam::111122223333:role/kubecost-x',
        false,
      ],
      ['ArnNotLike', 'arn:aws:iam::111122223333:role/admin', 'not-an-arn', true],
    ])
  })

  describe('Null', () => {
    table('aws:PrincipalTag/team', [
      ['Null', 'true', undefined, true],
      ['Null', 'true', 'data', false],
      ['Null', 'false', 'data', true],
      ['Null', 'false', undefined, false],
    ])
  })

  describe('a missing key', () => {
    table('s3:TlsVersion', [
      // A plain-HTTP request has no TLS version: "older than 1.2" does not hold for it.
      ['NumericLessThan', '1.2', undefined, false],
      ['NumericLessThanIfExists', '1.2', undefined, true],
      ['NumericNotEquals', '1.2', undefined, true],
    ])
    table('aws:PrincipalArn', [
      ['StringEquals', 'x', undefined, false],
      ['StringNotEquals', 'x', undefined, true],
      ['StringEqualsIfExists', 'x', undefined, true],
      ['StringNotEqualsIfExists', 'x', undefined, true],
      ['StringLike', 'x*', undefined, false],
      ['StringNotLike', 'x*', undefined, true],
      ['ArnLike', 'arn:aws:iam::*:role/x', undefined, false],
      ['ArnNotLike', 'arn:aws:iam::*:role/x', undefined, true],
      ['ArnNotEquals', 'arn:aws:iam::1:role/x', undefined, true],
      ['Bool', 'true', undefined, false],
      ['BoolIfExists', 'true', undefined, true],
      ['NotIpAddress', '10.0.0.0/8', undefined, true],
      ['IpAddress', '10.0.0.0/8', undefined, false],
      ['ForAllValues:StringEquals', 'x', undefined, true],
      ['ForAllValues:StringEquals', 'x', [], true],
      ['ForAnyValue:StringEquals', 'x', undefined, false],
      ['ForAnyValue:StringEquals', 'x', [], false],
      ['ForAnyValue:StringNotEquals', 'x', undefined, false],
      ['ForAnyValue:StringEqualsIfExists', 'x', undefined, true],
    ])
    table('aws:PrincipalArn', [
      // IfExists on a present key is the plain operator.
      ['StringEqualsIfExists', 'x', 'y', false],
      ['StringEqualsIfExists', 'x', 'x', true],
    ])
  })

  describe('multi-valued keys and set qualifiers', () => {
    table('aws:TagKeys', [
      ['ForAnyValue:StringEquals', ['a', 'b'], ['x', 'b'], true],
      ['ForAnyValue:StringEquals', ['a', 'b'], ['x', 'y'], false],
      ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'b'], true],
      ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'c'], false],
      ['ForAnyValue:StringNotEquals', 'a', ['a', 'b'], true],
      ['ForAnyValue:StringNotEquals', 'a', ['a'], false],
      ['ForAllValues:StringNotEquals', 'a', ['b', 'c'], true],
      ['ForAllValues:StringNotEquals', 'a', ['a', 'c'], false],
      ['ForAllValues:StringLike', 'team-*', ['team-a', 'team-b'], true],
      ['ForAnyValue:StringLike', 'team-*', ['x', 'team-b'], true],
      // Without a qualifier a multi-valued key matches when any of its values does.
      ['StringEquals', 'b', ['x', 'b'], true],
      ['StringNotEquals', 'b', ['x', 'b'], false],
    ])
  })

  it('ORs the values of one key: a negated operator holds only when none matches', () => {
    assert.equal(cond('StringEquals', 'k', ['a', 'b'], {k: 'b'}), true)
    assert.equal(cond('StringNotEquals', 'k', ['a', 'b'], {k: 'b'}), false)
    assert.equal(cond('StringNotEquals', 'k', ['a', 'b'], {k: 'c'}), true)
  })

  it('compares condition key names without regard to case', () => {
    assert.equal(cond('Bool', 'AWS:SecureTransport', 'false', {'aws:securetransport': 'false'}), true)
    assert.equal(cond('StringEquals', 'aws:principaltag/Team', 'x', {'aws:PrincipalTag/team': 'x'}), true)
  })

  it('gives unknown, never true or false, for what it cannot decide', () => {
    const unknown = (
      operator: string,
      values: string | string[],
      context: Context = {k: '1'},
      unmodelled: string[] = [],
    ) => {
      const outcome = evaluateCondition({operator, key: 'k', values: [values].flat()}, keys(context, unmodelled))
      assert.equal(outcome.result, 'unknown', operator)
      return outcome
    }

    assert.equal(unknown('StringEqualz', 'x').unknownBecause, 'operator')
    assert.match(unknown('StringEqualz', 'x').note, /StringEqualz is not one the analyzer knows/)
    assert.equal(unknown('ForAnyValue:Null', 'true').unknownBecause, 'operator')
    assert.equal(unknown('NullIfExists', 'true').unknownBecause, 'operator')
    assert.equal(unknown('ForSomeValues:StringEquals', 'x').unknownBecause, 'operator')
    assert.equal(unknown('NumericLessThan', 'one point two').unknownBecause, 'value')
    assert.equal(unknown('Bool', 'yes').unknownBecause, 'value')
    assert.equal(unknown('IpAddress', '10.0.0.0/33').unknownBecause, 'value')
    assert.equal(unknown('Null', 'maybe').unknownBecause, 'value')
    assert.match(unknown('StringEquals', '${aws:username}').note, /policy variables/)
    assert.equal(unknown('StringEquals', 'x', {}, ['k']).unknownBecause, 'unmodelled-key')
    // Even operators that are true on a missing key do not guess about a key the caller cannot know.
    assert.equal(unknown('StringNotEquals', 'x', {}, ['k']).unknownBecause, 'unmodelled-key')
    assert.equal(unknown('Null', 'true', {}, ['k']).unknownBecause, 'unmodelled-key')
  })

  it('parses qualifiers and IfExists', () => {
    assert.deepEqual(parseOperator('ForAllValues:StringNotLikeIfExists'), {
      set: 'all',
      ifExists: true,
      comparison: 'StringLike',
      negated: true,
    })
    assert.deepEqual(parseOperator('NotIpAddress'), {ifExists: false, comparison: 'IpAddress', negated: true})
    assert.deepEqual(parseOperator('Null'), {ifExists: false, comparison: null, negated: false})
    assert.equal(parseOperator('StringLikeish'), undefined)
  })
})

describe('wildcards and three-valued logic', () => {
  it('globs: * spans any characters including / and :, ? exactly one, the rest is literal', () => {
    assert.equal(globMatches('arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b:c.parquet'), true)
    assert.equal(globMatches('arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket'), false)
    assert.equal(globMatches('arn:aws:s3:::bucket*', 'arn:aws:s3:::bucket-2/x'), true)
    assert.equal(globMatches('a.c', 'abc'), false)
    assert.equal(globMatches('a?c', 'abc'), true)
    assert.equal(globMatches('a(b)+[c]', 'a(b)+[c]'), true)
    assert.equal(globMatches('S3:GET*', 's3:GetObject', true), true)
  })

  it('matches ARNs part by part', () => {
    assert.equal(arnMatches('arn:aws:s3:::*', 'arn:aws:s3:::bucket/key'), true)
    assert.equal(arnMatches('arn:*:iam::111122223333:role/x', 'arn:aws-cn:iam::111122223333:role/x'), true)
    assert.equal(arnMatches('*', 'arn:aws:iam::1:role/x'), true)
  })

  it('ANDs and ORs with unknown', () => {
    assert.equal(and([true, 'unknown']), 'unknown')
    assert.equal(and([false, 'unknown']), false)
    assert.equal(and([]), true)
    assert.equal(or([false, 'unknown']), 'unknown')
    assert.equal(or([true, 'unknown']), true)
    assert.equal(or([]), false)
  })
})

const ROLE = 'arn:aws:iam::111122223333:role/crawler'
const BUCKET = 'arn:aws:s3:::data'
const OBJECT = 'arn:aws:s3:::data/a/b.parquet'
const role = (arn = ROLE): Caller => ({kind: 'aws', arn, account: arn.split(':')[4] ?? ''})

function request(overrides: Partial<Request> = {}): Request {
  return {
    caller: role(),
    action: 's3:GetObject',
    resource: OBJECT,
    keys: {'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3', 'aws:PrincipalArn': ROLE},
    ...overrides,
  }
}

function policy(...statements: object[]) {
  return parsePolicy(JSON.stringify({Version: '2012-10-17', Statement: statements}), 'test policy')
}

const allow = (extra: object = {}) => ({
  Effect: 'Allow',
  Principal: '*',
  Action: 's3:*',
  Resource: [BUCKET, `${BUCKET}/*`],
  ...extra,
})
const deny = (extra: object = {}) => ({...allow(extra), Effect: 'Deny', ...extra})

describe('evaluate', () => {
  it('lets an explicit Deny win over an Allow, and denies implicitly when nothing applies', () => {
    assert.equal(evaluate(policy(allow(), deny()), request()).outcome, 'explicit-deny')
    assert.equal(evaluate(policy(allow()), request()).outcome, 'allow')
    assert.equal(evaluate(policy(allow({Action: 's3:PutObject'})), request()).outcome, 'implicit-deny')
    assert.equal(evaluate(undefined, request()).outcome, 'implicit-deny')
  })

  it('matches principals: *, {"AWS": "*"}, account id, account root, role ARN, service', () => {
    const applies = (principal: unknown, caller: Caller = role()) =>
      evaluate(policy(deny({Principal: principal})), request({caller})).deny
    assert.equal(applies('*', {kind: 'anonymous'}), true)
    assert.equal(applies({AWS: '*'}, {kind: 'anonymous'}), true)
    assert.equal(applies({AWS: '111122223333'}), true)
    assert.equal(applies({AWS: '444455556666'}), false)
    assert.equal(applies({AWS: 'arn:aws:iam::111122223333:root'}), true)
    assert.equal(applies({AWS: ['arn:aws:iam::111122223333:role/other', ROLE]}), true)
    assert.equal(applies({AWS: 'arn:aws:iam::111122223333:role/other'}), false)
    assert.equal(applies({AWS: ROLE}, {kind: 'anonymous'}), false)
    assert.equal(
      applies({Service: 'logging.s3.amazonaws.com'}, {kind: 'service', service: 'logging.s3.amazonaws.com'}),
      true,
    )
    assert.equal(applies({Service: 'logging.s3.amazonaws.com'}), false)
    assert.equal(applies({Federated: 'cognito-identity.amazonaws.com'}), false)
  })

  it('applies NotPrincipal, NotAction and NotResource to everything not listed', () => {
    // Each Not* element replaces its positive counterpart in an otherwise catch-all Deny.
    const deny1 = (extra: {NotPrincipal?: object; NotAction?: string | string[]; NotResource?: string}) => {
      const {Principal, Action, Resource, ...rest} = deny()
      const statement = {
        ...rest,
        ...(extra.NotPrincipal ? {NotPrincipal: extra.NotPrincipal} : {Principal}),
        ...(extra.NotAction ? {NotAction: extra.NotAction} : {Action}),
        ...(extra.NotResource ? {NotResource: extra.NotResource} : {Resource}),
      }
      return evaluate(policy(statement), request()).deny
    }

    // IAM exempts a caller only when NotPrincipal lists its own ARN and its account.
    assert.equal(deny1({NotPrincipal: {AWS: [ROLE, 'arn:aws:iam::111122223333:root']}}), false)
    assert.equal(deny1({NotPrincipal: {AWS: ROLE}}), true)
    assert.equal(deny1({NotPrincipal: {AWS: 'arn:aws:iam::111122223333:role/admin'}}), true)
    assert.equal(deny1({NotAction: 's3:GetObject'}), false)
    assert.equal(deny1({NotAction: ['s3:Put*', 's3:Delete*']}), true)
    assert.equal(deny1({NotResource: `${BUCKET}/a/*`}), false)
    assert.equal(deny1({NotResource: BUCKET}), true)
  })

  it('matches actions case-insensitively with wildcards, resources case-sensitively', () => {
    const denies = (extra: object, overrides: Partial<Request> = {}) =>
      evaluate(policy(deny(extra)), request(overrides)).deny
    assert.equal(denies({Action: 's3:Get*'}), true)
    assert.equal(denies({Action: 'S3:GETOBJECT'}), true)
    assert.equal(denies({Action: 's3:Get?bject'}), true)
    assert.equal(denies({Action: 's3:List*'}), false)
    assert.equal(denies({Action: '*'}), true)
    assert.equal(denies({Resource: `${BUCKET}/*`}, {resource: BUCKET, action: 's3:ListBucket'}), false)
    assert.equal(denies({Resource: `${BUCKET}/A/*`}), false)
    assert.equal(denies({Resource: 'arn:aws:s3:::d?t?/*'}), true)
  })

  it('ANDs operators and keys of one statement, so a combined deny needs all of them at once', () => {
    const combined = policy(
      deny({
        Condition: {
          Bool: {'aws:SecureTransport': 'false'},
          NumericLessThan: {'s3:TlsVersion': '1.2'},
          StringNotEquals: {
            'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/admin',
            'aws:PrincipalTag/team': 'data',
          },
        },
      }),
    )
    const http = {'aws:SecureTransport': 'false', 'aws:PrincipalArn': ROLE}
    const decision = evaluate(combined, request({keys: http}))
    assert.equal(decision.deny, false)
    assert.deepEqual(
      decision.statements[0]?.conditions.map(c => [c.entry.key, c.result]),
      [
        ['aws:SecureTransport', true],
        ['s3:TlsVersion', false],
        ['aws:PrincipalArn', true],
        ['aws:PrincipalTag/team', true],
      ],
    )
    assert.match(decision.statements[0]?.conditions[1]?.note ?? '', /the request has no s3:TlsVersion/)
  })

  it('reports unknown rather than passing when a Deny depends on an unknown operator', () => {
    const request1 = request({keys: {'aws:SecureTransport': 'false'}})
    const unknownOnly = evaluate(policy(deny({Condition: {BoolEquals: {'aws:SecureTransport': 'false'}}})), request1)
    assert.equal(unknownOnly.deny, 'unknown')
    assert.equal(unknownOnly.outcome, 'unknown')
    // A Deny that applies for sure still decides.
    const withSure = evaluate(
      policy(
        deny({Condition: {BoolEquals: {'aws:SecureTransport': 'false'}}}),
        deny({Condition: {Bool: {'aws:SecureTransport': 'false'}}}),
      ),
      request1,
    )
    assert.equal(withSure.outcome, 'explicit-deny')
    // Out of scope (another action) is false whatever the condition.
    assert.equal(
      evaluate(policy(deny({Action: 's3:PutObject', Condition: {BoolEquals: {k: 'x'}}})), request1).deny,
      false,
    )
  })

  it('treats keys the caller cannot simulate as unknown, and other absent keys as missing', () => {
    const statement = deny({Condition: {NotIpAddress: {'aws:SourceIp': '10.0.0.0/8'}}})
    assert.equal(evaluate(policy(statement), request()).deny, true)
    assert.equal(
      evaluate(policy(statement), request({keyKind: k => (k === 'aws:sourceip' ? 'unknown' : 'missing')})).deny,
      'unknown',
    )
  })
})
