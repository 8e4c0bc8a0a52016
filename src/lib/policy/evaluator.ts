import {type ConditionKeys, type ConditionOutcome, evaluateCondition} from './conditions.js'
import type {PolicyDocument, PrincipalSpec, Statement} from './document.js'
import {type Tri, actionMatches, and, globMatches, or} from './match.js'

/**
 * Evaluates one request against a bucket policy, the way IAM does for the resource-policy side:
 * a statement applies when its principal, action, resource and every condition match; an explicit
 * Deny wins over any Allow; with neither, the request is implicitly denied by this policy (an IAM
 * policy of the caller's own account may still allow it).
 */

export type Caller =
  | {kind: 'aws'; arn: string; account: string}
  | {kind: 'service'; service: string}
  | {kind: 'anonymous'}

export interface Request {
  caller: Caller
  /** e.g. `s3:GetObject` */
  action: string
  /** e.g. `arn:aws:s3:::bucket/key` */
  resource: string
  /** Condition keys of the request context, any case; a key that is not here is missing. */
  keys: Readonly<Record<string, string | readonly string[]>>
  /** Keys the caller cannot know the value of (a source IP, an organization): conditions on them are unknown. */
  unmodelled?: (lowerKey: string) => boolean
}

export interface StatementOutcome {
  statement: Statement
  principal: boolean
  action: boolean
  resource: boolean
  conditions: ConditionOutcome[]
  /** The conditions ANDed. */
  condition: Tri
  applies: Tri
}

export type Outcome = 'explicit-deny' | 'allow' | 'implicit-deny' | 'unknown'

export interface Decision {
  /** Whether an explicit Deny applies. */
  deny: Tri
  /** Whether an Allow applies (irrelevant when deny is true). */
  allow: Tri
  outcome: Outcome
  statements: StatementOutcome[]
}

const ACCOUNT_RE = /^\d{12}$/
const ROOT_RE = /^arn:[^:]+:iam::(\d{12}):root$/

function awsPrincipalMatches(value: string, caller: Caller): boolean {
  if (value === '*') return true
  if (caller.kind !== 'aws') return false
  if (ACCOUNT_RE.test(value)) return value === caller.account
  const root = ROOT_RE.exec(value)
  if (root) return root[1] === caller.account
  return value === caller.arn
}

export function principalMatches(spec: PrincipalSpec, caller: Caller): boolean {
  if (spec.kind === 'any') return true
  if (spec.aws.some((v) => awsPrincipalMatches(v, caller))) return true
  // Federated and CanonicalUser principals are never the callers of a simulated S3 request.
  return caller.kind === 'service' && spec.service.some((s) => s.toLowerCase() === caller.service.toLowerCase())
}

function conditionKeys(request: Request): ConditionKeys {
  const lower = new Map<string, readonly string[]>()
  for (const [key, value] of Object.entries(request.keys)) lower.set(key.toLowerCase(), typeof value === 'string' ? [value] : value)
  return {get: (key) => lower.get(key), unmodelled: (key) => request.unmodelled?.(key) ?? false}
}

export function evaluateStatement(statement: Statement, request: Request, keys = conditionKeys(request)): StatementOutcome {
  const principal = statement.principal
    ? principalMatches(statement.principal, request.caller)
    : !principalMatches(statement.notPrincipal ?? {kind: 'any'}, request.caller)
  const action = statement.action
    ? statement.action.some((p) => actionMatches(p, request.action))
    : !(statement.notAction ?? []).some((p) => actionMatches(p, request.action))
  const resource = statement.resource
    ? statement.resource.some((p) => globMatches(p, request.resource))
    : !(statement.notResource ?? []).some((p) => globMatches(p, request.resource))
  const conditions = statement.conditions.map((entry) => evaluateCondition(entry, keys))
  const condition = and(conditions.map((c) => c.result))
  return {statement, principal, action, resource, conditions, condition, applies: principal && action && resource ? condition : false}
}

export function evaluate(policy: PolicyDocument | undefined, request: Request): Decision {
  const keys = conditionKeys(request)
  const statements = (policy?.statements ?? []).map((s) => evaluateStatement(s, request, keys))
  const deny = or(statements.filter((s) => s.statement.effect === 'Deny').map((s) => s.applies))
  const allow = or(statements.filter((s) => s.statement.effect === 'Allow').map((s) => s.applies))
  const outcome: Outcome =
    deny === true ? 'explicit-deny' : deny === 'unknown' ? 'unknown' : allow === true ? 'allow' : allow === false ? 'implicit-deny' : 'unknown'
  return {deny, allow, outcome, statements}
}
