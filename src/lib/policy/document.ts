import {ConfigError} from '../errors.js'
import {isJsonObject, type JsonValue, JsonReadError, parseJson} from './json.js'
import {flag} from '../settings.js'

/**
 * A bucket policy document, read strictly: what S3 would reject (unknown elements, a statement without
 * Effect, Principal, Action or Resource, a partial wildcard in a principal) is an error naming the
 * place, because analysing a document S3 would never accept helps nobody.
 */

export type Effect = 'Allow' | 'Deny'

export type PrincipalSpec =
  {kind: 'any'} | {kind: 'listed'; aws: string[]; service: string[]; federated: string[]; canonicalUser: string[]}

export interface ConditionEntry {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string
  /** As written; condition key names are compared case-insensitively. */
  key: string
  values: string[]
}

export interface Statement {
  /** Position in the Statement list, from 0. */
  index: number
  sid?: string
  effect: Effect
  principal?: PrincipalSpec
  notPrincipal?: PrincipalSpec
  action?: string[]
  notAction?: string[]
  resource?: string[]
  notResource?: string[]
  conditions: ConditionEntry[]
}

export interface PolicyDocument {
  version?: string
  statements: Statement[]
  /** UTF-8 bytes without insignificant whitespace, the measure S3's 20 KB limit applies to. */
  size: number
}

/** Larger than any policy S3 or IAM accepts by far: refuse to read it at all. */
export const MAX_DOCUMENT_CHARS = 1024 * 1024

export class PolicyDocumentError extends ConfigError {
  override readonly code = 'POLICY_DOCUMENT'
}

const VERSIONS = ['2012-10-17', '2008-10-17']
const STATEMENT_KEYS = [
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]
const PRINCIPAL_KEYS = {AWS: 'aws', Service: 'service', Federated: 'federated', CanonicalUser: 'canonicalUser'} as const

class Problem extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`)
  }
}

const typeName = (value: JsonValue | undefined) =>
  value === undefined
    ? 'nothing'
    : value === null
      ? 'null'
      : Array.isArray(value)
        ? 'a list'
        : typeof value === 'object'
          ? 'an object'
          : `${typeof value} ${JSON.stringify(value)}`

function stringList(value: JsonValue | undefined, path: string): string[] {
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) throw new Problem(path, 'is an empty list; give at least one value')
  return list.map((item, i) => {
    if (typeof item !== 'string' || item === '')
      throw new Problem(
        Array.isArray(value) ? `${path}[${i}]` : path,
        `must be a non-empty string, got ${typeName(item)}`,
      )
    return item
  })
}

function parsePrincipal(value: JsonValue | undefined, path: string): PrincipalSpec {
  if (value === '*') return {kind: 'any'}
  if (!isJsonObject(value))
    throw new Problem(path, `must be "*" or an object such as {"AWS": [...]}, got ${typeName(value)}`)
  const spec = {
    kind: 'listed' as const,
    aws: [] as string[],
    service: [] as string[],
    federated: [] as string[],
    canonicalUser: [] as string[],
  }
  const keys = Object.keys(value)
  if (keys.length === 0) throw new Problem(path, 'is empty; name at least one principal')
  for (const key of keys) {
    const field = (PRINCIPAL_KEYS as Partial<Record<string, (typeof PRINCIPAL_KEYS)[keyof typeof PRINCIPAL_KEYS]>>)[key]
    if (!field)
      throw new Problem(
        `${path}.${key}`,
        `unknown principal type; use one of ${Object.keys(PRINCIPAL_KEYS).join(', ')}`,
      )
    spec[field] = stringList(value[key], `${path}.${key}`)
  }

  // {"AWS": "*"} is everyone, like "*"; any other wildcard in a principal S3 rejects outright.
  if (spec.aws.includes('*')) return {kind: 'any'}
  spec.aws.forEach((arn, i) => {
    if (/[*?]/.test(arn))
      throw new Problem(
        `${path}.AWS[${i}]`,
        `"${arn}": a principal cannot contain wildcards (only "*" alone); use a condition on aws:PrincipalArn with ArnLike`,
      )
  })
  return spec
}

function conditionValue(value: JsonValue, path: string): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new Problem(path, `must be a string, number or boolean, got ${typeName(value)}`)
}

function parseConditions(value: JsonValue | undefined, path: string): ConditionEntry[] {
  if (value === undefined) return []
  if (!isJsonObject(value)) throw new Problem(path, `must be an object of operators, got ${typeName(value)}`)
  const entries: ConditionEntry[] = []
  for (const [operator, block] of Object.entries(value)) {
    const blockPath = `${path}.${operator}`
    if (!isJsonObject(block))
      throw new Problem(blockPath, `must be an object of condition keys, got ${typeName(block)}`)
    if (Object.keys(block).length === 0) throw new Problem(blockPath, 'has no condition keys')
    for (const [key, raw] of Object.entries(block)) {
      const keyPath = `${blockPath}.${key}`
      const list = Array.isArray(raw) ? raw : [raw]
      if (list.length === 0) throw new Problem(keyPath, 'is an empty list; give at least one value')
      entries.push({
        operator,
        key,
        values: list.map((v, i) => conditionValue(v, Array.isArray(raw) ? `${keyPath}[${i}]` : keyPath)),
      })
    }
  }

  return entries
}

function exactlyOne(statement: Record<string, JsonValue>, path: string, a: string, b: string): void {
  const has = [a, b].filter(k => statement[k] !== undefined)
  if (has.length === 0) throw new Problem(path, `has neither ${a} nor ${b}; a bucket policy statement needs one`)
  if (has.length === 2) throw new Problem(path, `has both ${a} and ${b}; use one`)
}

function parseStatement(value: JsonValue, index: number, path: string): Statement {
  if (!isJsonObject(value)) throw new Problem(path, `must be an object, got ${typeName(value)}`)
  for (const key of Object.keys(value)) {
    if (!STATEMENT_KEYS.includes(key))
      throw new Problem(`${path}.${key}`, `unknown statement element; allowed: ${STATEMENT_KEYS.join(', ')}`)
  }

  const effect = value.Effect
  if (effect !== 'Allow' && effect !== 'Deny')
    throw new Problem(`${path}.Effect`, `must be "Allow" or "Deny", got ${typeName(effect)}`)
  if (value.Sid !== undefined && typeof value.Sid !== 'string')
    throw new Problem(`${path}.Sid`, `must be a string, got ${typeName(value.Sid)}`)
  exactlyOne(value, path, 'Principal', 'NotPrincipal')
  exactlyOne(value, path, 'Action', 'NotAction')
  exactlyOne(value, path, 'Resource', 'NotResource')
  const list = (key: string) => (value[key] === undefined ? undefined : stringList(value[key], `${path}.${key}`))
  const principal = (key: string) =>
    value[key] === undefined ? undefined : parsePrincipal(value[key], `${path}.${key}`)
  return {
    index,
    ...(typeof value.Sid === 'string' ? {sid: value.Sid} : {}),
    effect,
    principal: principal('Principal'),
    notPrincipal: principal('NotPrincipal'),
    action: list('Action'),
    notAction: list('NotAction'),
    resource: list('Resource'),
    notResource: list('NotResource'),
    conditions: parseConditions(value.Condition, `${path}.Condition`),
  }
}

function toPolicy(root: JsonValue): Omit<PolicyDocument, 'size'> {
  if (!isJsonObject(root))
    throw new Problem('(top level)', `must be an object with "Version" and "Statement", got ${typeName(root)}`)
  for (const key of Object.keys(root)) {
    if (!['Version', 'Id', 'Statement'].includes(key))
      throw new Problem(key, 'unknown policy element; allowed: Version, Id, Statement')
  }

  const version = root.Version
  if (version !== undefined && (typeof version !== 'string' || !VERSIONS.includes(version))) {
    throw new Problem('Version', `must be "2012-10-17", got ${typeName(version)}`)
  }

  if (root.Statement === undefined) throw new Problem('Statement', 'is missing; a policy needs at least one statement')
  const raw = root.Statement
  const list = Array.isArray(raw) ? raw : [raw]
  if (list.length === 0) throw new Problem('Statement', 'is an empty list; a policy needs at least one statement')
  return {
    ...(typeof version === 'string' ? {version} : {}),
    statements: list.map((s, i) => parseStatement(s, i, Array.isArray(raw) ? `Statement[${i}]` : 'Statement')),
  }
}

/** Reads a policy document; `origin` names it in errors (a file path, or "the bucket policy of X"). */
export function parsePolicy(text: string, origin: string): PolicyDocument {
  if (text.length > MAX_DOCUMENT_CHARS) {
    throw new PolicyDocumentError(
      `${origin} is ${text.length} characters long: not a bucket policy (S3 accepts at most 20 KB)`,
      {
        suggestions: [`Give the bucket policy document itself; \`${flag('printRecommended')}\` prints one.`],
      },
    )
  }

  let root: JsonValue
  try {
    root = parseJson(text)
  } catch (error) {
    if (!(error instanceof JsonReadError)) throw error
    throw new PolicyDocumentError(
      `${origin} is ${error.duplicateKey ? 'ambiguous' : 'not valid'} JSON: ${error.message}`,
      {
        cause: error,
        suggestions: [
          `Fix the JSON at that place; \`${flag('printRecommended')}\` prints a valid policy to start from.`,
        ],
      },
    )
  }

  try {
    return {...toPolicy(root), size: Buffer.byteLength(JSON.stringify(root), 'utf8')}
  } catch (error) {
    if (!(error instanceof Problem)) throw error
    throw new PolicyDocumentError(`${origin} is not a bucket policy: ${error.message}`, {
      cause: error,
      suggestions: [
        `See https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html, or start from \`${flag('printRecommended')}\`.`,
      ],
    })
  }
}

/** How a statement is named in messages: its Sid when it has one, and its position from 1. */
export function statementLabel(statement: Statement): string {
  return statement.sid ? `"${statement.sid}" (#${statement.index + 1})` : `#${statement.index + 1}`
}
