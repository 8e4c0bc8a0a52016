import type {ConditionEntry} from './document.js'
import {type Tri, arnMatches, globMatches} from './match.js'

/**
 * IAM condition operators, with IAM's semantics for missing keys and multi-valued keys:
 * - values of one key are ORed; keys and operators are ANDed (by the caller);
 * - a negated operator (StringNotEquals, ArnNotLike, NotIpAddress ...) is true when none of the
 *   policy values match, and true on a missing key; a positive one is false on a missing key;
 * - ...IfExists is true on a missing key; ForAllValues is true on a missing or empty key,
 *   ForAnyValue false;
 * - Null tests presence only.
 * An operator this module does not know, a policy value it cannot read, a policy variable, or a key
 * the caller says it does not simulate give `unknown`, never a guess.
 */

export interface ConditionKeys {
  /** The value(s) of a key, looked up by lower-cased name; undefined when the request lacks it. */
  get(lowerKey: string): readonly string[] | undefined
  /**
   * `known`: `get` has it; `missing`: the request lacks it; `chosen`: the caller sets it (any value,
   * or none) — a header, its own tags; `unknown`: the analyzer cannot know it (a source IP, an organization).
   */
  kind(lowerKey: string): 'known' | 'missing' | 'chosen' | 'unknown'
}

export interface ConditionOutcome {
  entry: ConditionEntry
  result: Tri
  /** Why, in words: the request's value of the key, or what could not be decided. */
  note: string
  /** When unknown: an operator or value the analyzer cannot read, or a key it does not simulate. */
  unknownBecause?: 'operator' | 'value' | 'unmodelled-key'
  /** The result is the one the caller chose, through a key it sets itself. */
  chosenByCaller?: boolean
}

/** Keys whose value the caller cannot pick, but which a wildcard pattern lets any caller meet (any organization, any user id). */
const WILDCARD_ANYONE = new Set(['aws:principalorgid', 'aws:principalorgpaths', 'aws:userid', 'aws:username'])

interface Comparison<T> {
  /** Reads a policy value; undefined when it is not a valid value for the operator. */
  read(policyValue: string): T | undefined
  /** Whether a request value matches a (valid) policy value. */
  matches(requestValue: string, policyValue: T): boolean
  expects: string
}

const NUMBER_RE = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/
const readNumber = (value: string) => (NUMBER_RE.test(value) ? Number(value) : undefined)
const readDate = (value: string) => {
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

const numeric = (test: (request: number, policy: number) => boolean): Comparison<number> => ({
  read: readNumber,
  matches: (request, policy) => {
    const value = readNumber(request)
    return value !== undefined && test(value, policy)
  },
  expects: 'a number',
})

const date = (test: (request: number, policy: number) => boolean): Comparison<number> => ({
  read: readDate,
  matches: (request, policy) => {
    const value = readDate(request)
    return value !== undefined && test(value, policy)
  },
  expects: 'a date (ISO 8601 or epoch seconds)',
})

const text = (matches: (request: string, policy: string) => boolean): Comparison<string> => ({
  read: v => v,
  matches,
  expects: 'a string',
})

const COMPARISONS = {
  StringEquals: text((r, p) => r === p),
  StringEqualsIgnoreCase: text((r, p) => r.toLowerCase() === p.toLowerCase()),
  StringLike: text((r, p) => globMatches(p, r)),
  NumericEquals: numeric((r, p) => r === p),
  NumericLessThan: numeric((r, p) => r < p),
  NumericLessThanEquals: numeric((r, p) => r <= p),
  NumericGreaterThan: numeric((r, p) => r > p),
  NumericGreaterThanEquals: numeric((r, p) => r >= p),
  DateEquals: date((r, p) => r === p),
  DateLessThan: date((r, p) => r < p),
  DateLessThanEquals: date((r, p) => r <= p),
  DateGreaterThan: date((r, p) => r > p),
  DateGreaterThanEquals: date((r, p) => r >= p),
  Bool: {
    read: (v: string) => (/^(true|false)$/i.test(v) ? v.toLowerCase() : undefined),
    matches: (r: string, p: string) => r.toLowerCase() === p,
    expects: '"true" or "false"',
  },
  BinaryEquals: text((r, p) => r === p),
  IpAddress: {read: parseCidr, matches: (r: string, p: Cidr) => ipInCidr(r, p), expects: 'an IP address or CIDR block'},
  ArnEquals: text((r, p) => arnMatches(p, r)),
  ArnLike: text((r, p) => arnMatches(p, r)),
} satisfies Record<string, Comparison<unknown>>

type ComparisonName = keyof typeof COMPARISONS

/** Every operator name (without set qualifier or IfExists): the comparison it uses and whether it negates it. */
const OPERATORS = new Map<string, {comparison: ComparisonName; negated: boolean}>()
for (const name of Object.keys(COMPARISONS) as ComparisonName[])
  OPERATORS.set(name.toLowerCase(), {comparison: name, negated: false})
for (const [negated, comparison] of [
  ['StringNotEquals', 'StringEquals'],
  ['StringNotEqualsIgnoreCase', 'StringEqualsIgnoreCase'],
  ['StringNotLike', 'StringLike'],
  ['NumericNotEquals', 'NumericEquals'],
  ['DateNotEquals', 'DateEquals'],
  ['BinaryNotEquals', 'BinaryEquals'],
  ['NotIpAddress', 'IpAddress'],
  ['ArnNotEquals', 'ArnEquals'],
  ['ArnNotLike', 'ArnLike'],
] as const) {
  OPERATORS.set(negated.toLowerCase(), {comparison, negated: true})
}

export interface ParsedOperator {
  set?: 'any' | 'all'
  ifExists: boolean
  /** `null` for the Null operator. */
  comparison: ComparisonName | null
  negated: boolean
}

export function parseOperator(operator: string): ParsedOperator | undefined {
  let rest = operator.toLowerCase()
  let set: ParsedOperator['set']
  if (rest.startsWith('foranyvalue:')) set = 'any'
  else if (rest.startsWith('forallvalues:')) set = 'all'
  if (set) rest = rest.slice(rest.indexOf(':') + 1)
  if (rest === 'null') return set ? undefined : {ifExists: false, comparison: null, negated: false}
  const ifExists = rest.endsWith('ifexists')
  if (ifExists) rest = rest.slice(0, -'ifexists'.length)
  const known = OPERATORS.get(rest)
  return known ? {...(set ? {set} : {}), ifExists, ...known} : undefined
}

/** Whether `operator` is one a negative condition ("not equal", "not like") is written with. */
export function isNegatedOperator(operator: string): boolean {
  return parseOperator(operator)?.negated ?? false
}

const show = (values: readonly string[]) =>
  values.length === 1 ? `"${values[0]}"` : `[${values.map(v => `"${v}"`).join(', ')}]`

/**
 * `wants`: the result the caller would choose (true for an Allow it wants to meet, false for a Deny it
 * wants to avoid) when the key is one it sets itself; without it such a key is unknown.
 */
export function evaluateCondition(entry: ConditionEntry, keys: ConditionKeys, wants?: boolean): ConditionOutcome {
  const unknown = (note: string, unknownBecause: ConditionOutcome['unknownBecause'] = 'value'): ConditionOutcome => ({
    entry,
    result: 'unknown',
    note,
    unknownBecause,
  })
  const operator = parseOperator(entry.operator)
  if (!operator) return unknown(`condition operator ${entry.operator} is not one the analyzer knows`, 'operator')
  const lowerKey = entry.key.toLowerCase()
  const requestValues = keys.get(lowerKey)
  let kind = keys.kind(lowerKey)
  const wildcard = operator.comparison === 'StringLike' && entry.values.some(v => /[*?]/.test(v))
  if (kind === 'unknown' && WILDCARD_ANYONE.has(lowerKey) && wildcard) kind = 'chosen'
  if (kind === 'chosen') {
    const note = WILDCARD_ANYONE.has(lowerKey)
      ? `${entry.key} ${show(entry.values)} is a wildcard any caller can meet`
      : `${entry.key} is set by the caller`
    return wants === undefined ? unknown(note, 'unmodelled-key') : {entry, result: wants, note, chosenByCaller: true}
  }

  if (kind === 'unknown') {
    // Whatever the caller's address, a /0 block contains it.
    const everyAddress =
      lowerKey === 'aws:sourceip' &&
      operator.comparison === 'IpAddress' &&
      entry.values.some(v => parseCidr(v)?.prefix === 0)
    if (everyAddress && !operator.set)
      return {entry, result: !operator.negated, note: `${show(entry.values)} contains every address`}
    const org = lowerKey === 'aws:principalorgid' || lowerKey === 'aws:principalorgpaths'
    return unknown(
      org
        ? `${entry.key} ${show(entry.values)}: every account of that organization meets it`
        : `${entry.key} is not simulated by the analyzer`,
      'unmodelled-key',
    )
  }
  const missing = requestValues === undefined || requestValues.length === 0
  const said = missing ? `the request has no ${entry.key}` : `${entry.key} is ${show(requestValues)}`
  const outcome = (result: boolean): ConditionOutcome => ({entry, result, note: said})

  if (operator.comparison === null) {
    const wanted = entry.values.map(v => (/^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : undefined))
    if (wanted.some(w => w === undefined)) return unknown(`Null expects "true" or "false", got ${show(entry.values)}`)
    return outcome(wanted.some(absent => absent === missing))
  }

  if (entry.values.some(v => v.includes('${')))
    return unknown(`policy variables such as ${show(entry.values)} are not evaluated by the analyzer`)
  const comparison = COMPARISONS[operator.comparison] as Comparison<unknown>
  const policyValues = entry.values.map(v => comparison.read(v))
  if (policyValues.some(v => v === undefined))
    return unknown(`${entry.operator} expects ${comparison.expects}, got ${show(entry.values)}`)

  if (missing) {
    if (operator.ifExists) return outcome(true)
    if (operator.set === 'all') return outcome(true)
    if (operator.set === 'any') return outcome(false)
    return outcome(operator.negated)
  }

  const matchesAny = (value: string) => policyValues.some(p => comparison.matches(value, p))
  // A negated operator holds for a request value that matches none of the policy values.
  const holdsFor = (value: string) => (operator.negated ? !matchesAny(value) : matchesAny(value))
  if (operator.set === 'all') return outcome(requestValues.every(holdsFor))
  if (operator.set === 'any') return outcome(requestValues.some(holdsFor))
  // Without a set qualifier a multi-valued key matches when any of its values does.
  return outcome(operator.negated ? !requestValues.some(matchesAny) : requestValues.some(matchesAny))
}

interface Cidr {
  version: 4 | 6
  bits: bigint
  prefix: number
}

function parseIp(text: string): {version: 4 | 6; bits: bigint} | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number)
    if (parts.some(p => p > 255)) return undefined
    return {version: 4, bits: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n)}
  }

  if (!/^[0-9a-fA-F:]+$/.test(text) || text.split('::').length > 2) return undefined
  const [head = '', tail] = text.split('::')
  const groups = (s: string) => (s === '' ? [] : s.split(':'))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const fill = 8 - left.length - right.length
  if (tail === undefined ? fill !== 0 : fill < 1) return undefined
  const all = [...left, ...Array<string>(tail === undefined ? 0 : fill).fill('0'), ...right]
  if (all.some(g => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined
  return {version: 6, bits: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)}
}

function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/')
  if (extra !== undefined) return undefined
  const ip = parseIp(address)
  if (!ip) return undefined
  const width = ip.version === 4 ? 32 : 128
  const prefix = prefixText === undefined ? width : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN
  if (!(prefix >= 0 && prefix <= width)) return undefined
  return {...ip, prefix}
}

function ipInCidr(request: string, cidr: Cidr): boolean {
  const ip = parseIp(request.trim())
  if (!ip || ip.version !== cidr.version) return false
  const shift = BigInt((cidr.version === 4 ? 32 : 128) - cidr.prefix)
  return ip.bits >> shift === cidr.bits >> shift
}
