import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {describe, it} from 'node:test'

import {ConfigError} from '../../src/lib/errors.js'
import {PolicyDocumentError, parsePolicy, statementLabel} from '../../src/lib/policy/document.js'
import {parseJson} from '../../src/lib/policy/json.js'

const ORIGINAL = new URL('../fixtures/policies/original-single-statement.json', import.meta.url)
const statement = {Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*'}
const doc = (...statements: object[]) => JSON.stringify({Version: '2012-10-17', Statement: statements}, null, 2)

function rejects(text: string, pattern: RegExp): PolicyDocumentError {
  let caught: unknown
  try {
    parsePolicy(text, 'policy.json')
  } catch (error) {
    caught = error
  }

  assert.ok(caught instanceof PolicyDocumentError, `expected a PolicyDocumentError, got ${String(caught)}`)
  assert.match(caught.message, pattern)
  return caught
}

describe('parsePolicy', () => {
  it('reads the original sample: one Deny with four condition entries', async () => {
    const policy = parsePolicy(await readFile(ORIGINAL, 'utf8'), 'original')
    assert.equal(policy.statements.length, 1)
    const [only] = policy.statements
    assert.equal(only?.effect, 'Deny')
    assert.deepEqual(only?.principal, {kind: 'any'})
    assert.deepEqual(
      only?.conditions.map(c => `${c.operator} ${c.key} ${c.values.length}`),
      [
        'Bool aws:SecureTransport 1',
        'StringNotEquals aws:PrincipalArn 3',
        'StringNotEquals aws:PrincipalTag/irsa-kubecost-s3-exporter 1',
        'NumericLessThan s3:TlsVersion 1',
      ],
    )
  })

  it('accepts a single statement object, numbers and booleans as condition values, and {"AWS": "*"} as everyone', () => {
    const policy = parsePolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: {
          ...statement,
          Sid: 'One',
          Principal: {AWS: ['*']},
          Condition: {NumericLessThan: {'s3:TlsVersion': 1.2}, Bool: {'aws:SecureTransport': false}},
        },
      }),
      'p',
    )
    const [only] = policy.statements
    assert.deepEqual(only?.principal, {kind: 'any'})
    assert.deepEqual(
      only?.conditions.map(c => c.values),
      [['1.2'], ['false']],
    )
    assert.equal(only && statementLabel(only), '"One" (#1)')
    assert.equal(statementLabel({...statement, index: 2, effect: 'Deny', conditions: []}), '#3')
  })

  it('reads principal lists by type', () => {
    const policy = parsePolicy(
      doc({...statement, Principal: {AWS: '111122223333', Service: ['glue.amazonaws.com']}}),
      'p',
    )
    assert.deepEqual(policy.statements[0]?.principal, {
      kind: 'listed',
      aws: ['111122223333'],
      service: ['glue.amazonaws.com'],
      federated: [],
      canonicalUser: [],
    })
  })

  it('is a usage error (exit 2) with the code POLICY_DOCUMENT', () => {
    const error = rejects('{', /policy\.json is not valid JSON/)
    assert.ok(error instanceof ConfigError)
    assert.equal(error.exitCode, 2)
    assert.equal(error.code, 'POLICY_DOCUMENT')
    assert.ok(error.suggestions.length > 0)
  })

  describe('says where the JSON is wrong', () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'a trailing comma in an object',
        '{\n  "Version": "2012-10-17",\n}',
        /line 3, column 1: expected a double-quoted property name, found "}"/,
      ],
      [
        'a trailing comma in a list',
        '{"Statement": [1,]}',
        /line 1, column 18 \(Statement\[1\]\): expected a value, found "]"/,
      ],
      ['an unterminated string', '{"Version": "2012', /line 1, column 13 \(Version\): unterminated string/],
      ['a missing colon', '{"Version" "x"}', /line 1, column 12: expected ":" after "Version"/],
      ['an empty file', '', /line 1, column 1: expected a value, found end of input/],
      ['text after the document', '{} x', /line 1, column 4: unexpected "x" after the end/],
      ['a bare word', '{"Effect": Deny}', /column 12 \(Effect\): expected a value, found "D"/],
      ['a raw newline in a string', '{"Sid": "a\nb"}', /control character/],
      ['a bad escape', '{"Sid": "a\\qb"}', /bad escape "\\q"/],
      [
        'a missing closing brace',
        '{"Version": "2012-10-17"',
        /expected "," or "}" after the value of "Version", found end of input/,
      ],
    ]
    for (const [what, text, pattern] of cases) {
      it(what, () => {
        rejects(text, pattern)
      })
    }

    it('a key written twice, which JSON.parse would silently drop', () => {
      const text =
        '{"Statement": [{"Effect": "Deny", "Condition": {\n  "StringNotEquals": {"a": "1"},\n  "StringNotEquals": {"b": "2"}}}]}'
      rejects(
        text,
        /policy\.json is ambiguous JSON: line 3, column 3 \(Statement\[0\]\.Condition\): "StringNotEquals" appears twice in the same object/,
      )
    })

    it('reads what JSON.parse reads', () => {
      const text = '\uFEFF{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n\\"", {}], "__proto__": {"b": []}}'
      assert.deepEqual(parseJson(text), JSON.parse(text.slice(1)))
      assert.equal(Object.getPrototypeOf(parseJson('{"__proto__": {"polluted": 1}}')), Object.prototype)
    })
  })

  describe('says where it is not a policy', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a list at the top', '[]', /\(top level\): must be an object/],
      ['no Statement', '{"Version": "2012-10-17"}', /Statement: is missing/],
      ['an empty Statement list', '{"Statement": []}', /Statement: is an empty list/],
      ['an unknown top-level element', '{"Statement": [], "Statements": []}', /Statements: unknown policy element/],
      [
        'a wrong Version',
        '{"Version": "2012-10-18", "Statement": []}',
        /Version: must be "2012-10-17", got string "2012-10-18"/,
      ],
      [
        'a bad Effect',
        doc({...statement, Effect: 'Permit'}),
        /Statement\[0\]\.Effect: must be "Allow" or "Deny", got string "Permit"/,
      ],
      [
        'no Principal',
        doc({Effect: 'Deny', Action: 's3:*', Resource: '*'}),
        /Statement\[0\]: has neither Principal nor NotPrincipal/,
      ],
      [
        'Action and NotAction',
        doc({...statement, NotAction: 's3:GetObject'}),
        /Statement\[0\]: has both Action and NotAction/,
      ],
      [
        'no Resource',
        doc({Effect: 'Deny', Principal: '*', Action: 's3:*'}),
        /Statement\[0\]: has neither Resource nor NotResource/,
      ],
      [
        'an unknown statement element',
        doc(statement, {...statement, Principals: '*'}),
        /Statement\[1\]\.Principals: unknown statement element/,
      ],
      ['an empty action list', doc({...statement, Action: []}), /Statement\[0\]\.Action: is an empty list/],
      [
        'a number as resource',
        doc({...statement, Resource: ['arn:aws:s3:::b', 7]}),
        /Statement\[0\]\.Resource\[1\]: must be a non-empty string, got number 7/,
      ],
      [
        'a principal wildcard',
        doc({...statement, Principal: {AWS: 'arn:aws:iam::*:root'}}),
        /Statement\[0\]\.Principal\.AWS\[0\]: "arn:aws:iam::\*:root": a principal cannot contain wildcards/,
      ],
      [
        'an unknown principal type',
        doc({...statement, Principal: {Aws: '*'}}),
        /Statement\[0\]\.Principal\.Aws: unknown principal type/,
      ],
      [
        'a principal string other than *',
        doc({...statement, Principal: 'arn:aws:iam::111122223333:root'}),
        /Statement\[0\]\.Principal: must be "\*" or an object/,
      ],
      [
        'a condition that is not an object',
        doc({...statement, Condition: ['Bool']}),
        /Statement\[0\]\.Condition: must be an object of operators, got a list/,
      ],
      [
        'an operator without keys',
        doc({...statement, Condition: {Bool: {}}}),
        /Statement\[0\]\.Condition\.Bool: has no condition keys/,
      ],
      [
        'a condition value that is an object',
        doc({...statement, Condition: {Bool: {'aws:SecureTransport': {v: 1}}}}),
        /Condition\.Bool\.aws:SecureTransport: must be a string, number or boolean, got an object/,
      ],
      [
        'a Sid that is not a string',
        doc({...statement, Sid: 3}),
        /Statement\[0\]\.Sid: must be a string, got number 3/,
      ],
    ]
    for (const [what, text, pattern] of cases) {
      it(what, () => {
        rejects(text, new RegExp(`policy\\.json is not a bucket policy: .*${pattern.source}`))
      })
    }
  })
})
