import {type ConditionKeys, type ConditionOutcome, evaluateCondition} from './conditions.js'
import type {PolicyDocument, PrincipalSpec, Statement} from './document.js'
import {type Tri, actionMatches, and, coversAllWithPrefix, globMatches, matchesSomeWithPrefix, or} from './match.js'

/**
 * Evaluates one request against a bucket policy, the way IAM does for the resource-policy side:
 * a statement applies when its principal, action, resource and every condition match; an explicit
 * Deny wins over any Allow; with neither, the request is implicitly denied by this policy (an IAM
 * policy of the caller's own account may still allow it).
 *
 * A request may stand for many: every key under a prefix, or "an S3 action added after this tool's
 * list". Then the question is asked the way that is worst for the bucket (stance `intruder`: a Deny
 * counts only when it covers all of them, an Allow when it covers any, and condition keys the caller
 * sets itself take the caller's preferred value) or for the pipeline (stance `pipeline`: a Deny counts
 * when it covers any, an Allow only when it covers all).
 */

export type Caller =
  /** `arn` is the identity that signs the request: an assumed-role session, a user or an account root. */
  | {kind: 'aws'; arn: string; account: string; roleArn?: string}
  /** `sourceAccount`: the account whose resource the service acts for (aws:SourceAccount). */
  | {kind: 'service'; service: string; sourceAccount?: string}
  | {kind: 'anonymous'}

/** Any S3 action this tool does not list: AWS adds actions, and a Deny should still hold for them. */
export const UNLISTED_ACTION = 's3:<an action not in the list>'

export type RequestResource = string | {under: string}
export type Stance = 'intruder' | 'pipeline'

export interface Request {
  caller: Caller
  /** e.g. `s3:GetObject`, or UNLISTED_ACTION */
  action: string
  /** e.g. `arn:aws:s3:::bucket/key`, or every object ARN starting with `under` */
  resource: RequestResource
  /** Condition keys of the request context, any case; a key that is not here is missing, unless `keyKind` says otherwise. */
  keys: Readonly<Record<string, string | readonly string[]>>
  /** For keys not in `keys`: chosen by the caller (any value or none) or unknown to the analyzer. */
  keyKind?: (lowerKey: string) => 'chosen' | 'unknown' | 'missing'
  stance?: Stance
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

/** A Principal element: an account names every principal of it; a role ARN also its sessions. */
function awsPrincipalMatches(value: string, caller: Caller): boolean {
  if (value === '*') return true
  if (caller.kind !== 'aws') return false
  if (ACCOUNT_RE.test(value)) return value === caller.account
  const root = ROOT_RE.exec(value)
  if (root) return root[1] === caller.account
  return value === caller.arn || value === caller.roleArn
}

export function principalMatches(spec: PrincipalSpec, caller: Caller): boolean {
  if (spec.kind === 'any') return true
  if (spec.aws.some(v => awsPrincipalMatches(v, caller))) return true
  // Federated and CanonicalUser principals are never the callers of a simulated S3 request.
  return caller.kind === 'service' && spec.service.some(s => s.toLowerCase() === caller.service.toLowerCase())
}

/**
 * NotPrincipal exempts a caller only when it names the identity that signs the request and, for a
 * principal of an account, that account too: IAM checks the session ARN (not the role ARN) and the
 * account, so listing only role ARNs denies the roles' sessions.
 */
export function notPrincipalExempts(spec: PrincipalSpec, caller: Caller): boolean {
  if (spec.kind === 'any') return true
  if (caller.kind === 'anonymous') return false
  if (caller.kind === 'service') return spec.service.some(s => s.toLowerCase() === caller.service.toLowerCase())
  const account = spec.aws.some(v => v === caller.account || ROOT_RE.exec(v)?.[1] === caller.account)
  return spec.aws.includes(caller.arn) && (account || ROOT_RE.test(caller.arn))
}

function conditionKeys(request: Request): ConditionKeys {
  const lower = new Map<string, readonly string[]>()
  for (const [key, value] of Object.entries(request.keys))
    lower.set(key.toLowerCase(), typeof value === 'string' ? [value] : value)
  return {get: key => lower.get(key), kind: key => (lower.has(key) ? 'known' : (request.keyKind?.(key) ?? 'missing'))}
}

type Scope = 'all' | 'some'

function actionApplies(statement: Statement, action: string, scope: Scope): boolean {
  if (action !== UNLISTED_ACTION) {
    return statement.action
      ? statement.action.some(p => actionMatches(p, action))
      : !(statement.notAction ?? []).some(p => actionMatches(p, action))
  }

  // An unlisted action has an unknown name: only a wildcard pattern can match it.
  const wild = (p: string) => /[*?]/.test(p) && matchesSomeWithPrefix(p, 's3:', true)
  if (statement.action)
    return scope === 'all'
      ? statement.action.some(p => coversAllWithPrefix(p, 's3:', true))
      : statement.action.some(wild)
  const excluded = statement.notAction ?? []
  return scope === 'all' ? !excluded.some(wild) : !excluded.some(p => coversAllWithPrefix(p, 's3:', true))
}

function resourceApplies(statement: Statement, resource: RequestResource, scope: Scope): boolean {
  if (typeof resource === 'string') {
    return statement.resource
      ? statement.resource.some(p => globMatches(p, resource))
      : !(statement.notResource ?? []).some(p => globMatches(p, resource))
  }

  const {under} = resource
  if (statement.resource)
    return statement.resource.some(p =>
      scope === 'all' ? coversAllWithPrefix(p, under) : matchesSomeWithPrefix(p, under),
    )
  const excluded = statement.notResource ?? []
  return scope === 'all'
    ? !excluded.some(p => matchesSomeWithPrefix(p, under))
    : !excluded.some(p => coversAllWithPrefix(p, under))
}

export function evaluateStatement(
  statement: Statement,
  request: Request,
  keys = conditionKeys(request),
): StatementOutcome {
  const stance = request.stance ?? 'intruder'
  const scope: Scope = (statement.effect === 'Deny') === (stance === 'intruder') ? 'all' : 'some'
  const principal = statement.principal
    ? principalMatches(statement.principal, request.caller)
    : !notPrincipalExempts(statement.notPrincipal ?? {kind: 'any'}, request.caller)
  const action = actionApplies(statement, request.action, scope)
  const resource = resourceApplies(statement, request.resource, scope)
  // A key the caller chooses takes the value that suits it: it makes an Allow apply and a Deny not.
  const wants = stance === 'intruder' ? statement.effect === 'Allow' : undefined
  const conditions = statement.conditions.map(entry => evaluateCondition(entry, keys, wants))
  const condition = and(conditions.map(c => c.result))
  return {
    statement,
    principal,
    action,
    resource,
    conditions,
    condition,
    applies: principal && action && resource ? condition : false,
  }
}

export function evaluate(policy: PolicyDocument | undefined, request: Request): Decision {
  const keys = conditionKeys(request)
  const statements = (policy?.statements ?? []).map(s => evaluateStatement(s, request, keys))
  const deny = or(statements.filter(s => s.statement.effect === 'Deny').map(s => s.applies))
  const allow = or(statements.filter(s => s.statement.effect === 'Allow').map(s => s.applies))
  const outcome: Outcome =
    deny === true
      ? 'explicit-deny'
      : deny === 'unknown'
        ? 'unknown'
        : allow === true
          ? 'allow'
          : allow === false
            ? 'implicit-deny'
            : 'unknown'
  return {deny, allow, outcome, statements}
}
