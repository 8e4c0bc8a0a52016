import {CidError, EXIT_FAILURE} from '../errors.js'
import type {BucketSettings} from '../aws/bucket-settings.js'
import {isNegatedOperator, parseOperator} from './conditions.js'
import {type ConditionEntry, type PolicyDocument, type Statement, statementLabel} from './document.js'
import {type Decision, type Stance, UNLISTED_ACTION, evaluateStatement, evaluate} from './evaluator.js'
import {globMatches} from './match.js'
import {
  ALL_ACTIONS,
  type ExpectedPrincipals,
  PLAIN_HTTP,
  type SimulatedCaller,
  type SimulatedRequest,
  type Transport,
  bucketArn,
  describeRequest,
  exporterAccounts,
  exporterKeysArn,
  namedPrincipals,
  requestsFor,
  simulatedCallers,
  tls,
  toRequest,
} from './principals.js'
import {S3_BUCKET_ACTIONS, S3_OBJECT_ACTIONS} from './s3-actions.js'
import {flag, setting} from '../settings.js'

/**
 * The checks of `verify-bucket-policy`. The policy checks are decided by simulating requests (who,
 * which action, on the bucket or an object, over which transport) against the statements, so a
 * policy that only looks right fails with the request that gets through and the reason why.
 */

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skipped'
export type CheckId =
  | 'policy-size'
  | 'https-only'
  | 'tls-1.2'
  | 'expected-principals'
  | 'no-public-allow'
  | 'default-encryption'
  | 'public-access-block'
  | 'object-ownership'

export interface Check {
  id: CheckId
  title: string
  status: CheckStatus
  /** One line: why this status. */
  reason: string
  /** What to do about it (absent when the check passes). */
  fix?: string
  /** The simulated requests behind a fail or warn, one line each. */
  details: string[]
}

export type PolicyState =
  {state: 'present'; policy: PolicyDocument} | {state: 'absent'} | {state: 'unreadable'; reason: string}

export interface VerificationReport {
  bucket: string
  /** Where the policy came from: the live bucket, or a file (then the bucket settings are skipped). */
  source: {kind: 'bucket'} | {kind: 'file'; path: string}
  /**
   * `inconclusive` when no check of the policy could run (the bucket policy could not be read) and
   * nothing failed: the run proved nothing about who can reach the data, so it is not a pass.
   */
  verdict: 'pass' | 'warn' | 'fail' | 'inconclusive'
  /** Why the verdict is `inconclusive`. */
  inconclusive?: string
  counts: Record<CheckStatus, number>
  checks: Check[]
}

export class PolicyCheckFailedError extends CidError {
  readonly code: string = 'POLICY_CHECK_FAILED'
  readonly exitCode = EXIT_FAILURE
}

/** No policy check could run: exit 1, as a failed check does, since nothing was proven. */
export class PolicyCheckInconclusiveError extends PolicyCheckFailedError {
  override readonly code = 'POLICY_CHECK_INCONCLUSIVE'
}

const TITLES: Record<CheckId, string> = {
  'policy-size': "policy within S3's 20 KB size limit",
  'https-only': 'plain HTTP denied',
  'tls-1.2': 'TLS older than 1.2 denied',
  'expected-principals': 'only expected principals reach the data',
  'no-public-allow': 'no Allow for Principal "*" without a restricting condition',
  'default-encryption': 'default encryption on (SSE-S3 or SSE-KMS)',
  'public-access-block': 'public access block fully on',
  'object-ownership': 'object ownership BucketOwnerEnforced',
}

const MAX_DETAILS = 8
const PRINCIPAL_KEYS = [
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:principaltype',
  'aws:userid',
  'aws:username',
]

/** What to do about a setting that could not be read: another identity, or another way when the endpoint lacks the API. */
const readFix = (reason: string, action: string) =>
  reason.includes('not implemented')
    ? `This S3 endpoint does not offer ${action}: check that setting with the store's own tools.`
    : `Run the check as an identity allowed ${action}.`

/** The policy itself can always be checked offline, whatever the endpoint offers. */
const policyReadFix = (reason: string) =>
  reason.includes('not implemented')
    ? `This S3 endpoint does not offer s3:GetBucketPolicy: export the policy with the store's own tools and analyse it with ${flag('policyFile')}.`
    : `Run the check as an identity allowed s3:GetBucketPolicy (iam-policy prints that policy), or analyse the policy document with ${flag('policyFile')}.`

const check = (id: CheckId, status: CheckStatus, reason: string, fix?: string, details: string[] = []): Check => ({
  id,
  title: TITLES[id],
  status,
  reason,
  ...(fix && status !== 'pass' ? {fix} : {}),
  details,
})

interface Simulated {
  request: SimulatedRequest
  decision: Decision
}

const simulate = (
  policy: PolicyDocument | undefined,
  expected: ExpectedPrincipals,
  requests: SimulatedRequest[],
  stance?: Stance,
): Simulated[] => requests.map(request => ({request, decision: evaluate(policy, toRequest(request, expected, stance))}))

/** S3's limit on a bucket policy: it refuses a larger one, so a file over it can never be applied. */
export const MAX_POLICY_BYTES = 20 * 1024

function detailLines(items: Simulated[], say: (s: Simulated) => string): string[] {
  const lines = items.slice(0, MAX_DETAILS).map(say)
  if (items.length > MAX_DETAILS) lines.push(`... and ${items.length - MAX_DETAILS} more`)
  return lines
}

const show = (values: readonly string[]) =>
  values.length === 1 ? `"${values[0]}"` : `[${values.map(v => `"${v}"`).join(', ')}]`
const keyOf = (entry: ConditionEntry) => entry.key.toLowerCase()
const hasKey = (statement: Statement, test: (lowerKey: string) => boolean) =>
  statement.conditions.some(c => test(keyOf(c)))
const labels = (statements: readonly Statement[]) => statements.map(s => statementLabel(s)).join(', ')
const byStatements = (statements: readonly Statement[]) =>
  `statement${statements.length === 1 ? '' : 's'} ${labels(statements)}`

/** A condition entry in words, for "denies only a request that is at once ...". */
function describeEntry(entry: ConditionEntry): string {
  const key = keyOf(entry)
  const operator = parseOperator(entry.operator)
  const negated = isNegatedOperator(entry.operator)
  const value = entry.values.join(' or ')
  if (key === 'aws:securetransport' && operator?.comparison === 'Bool' && entry.values.length === 1) {
    return value.toLowerCase() === 'false' ? 'over plain HTTP' : 'over HTTPS'
  }

  if (key === 's3:tlsversion' && operator?.comparison === 'NumericLessThan' && !negated)
    return `on TLS older than ${value}`
  if (key === 'aws:principalarn')
    return negated
      ? 'from a principal not in its aws:PrincipalArn list'
      : 'from a principal in its aws:PrincipalArn list'
  if (key.startsWith('aws:principaltag/')) {
    const tag = `${entry.key.slice('aws:PrincipalTag/'.length)}=${value}`
    return negated ? `without tag ${tag}` : `with tag ${tag}`
  }

  return `matching ${entry.operator} ${entry.key} ${show(entry.values)}`
}

function conjunction(parts: string[]): string {
  return parts.length < 2 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`
}

const LISTED_ACTIONS = S3_BUCKET_ACTIONS.length + S3_OBJECT_ACTIONS.length
const MAX_NAMES = 6

function namesOf(actions: readonly string[]): string {
  const listed = [...new Set(actions.filter(a => a !== UNLISTED_ACTION))]
  const shown = listed.slice(0, MAX_NAMES).join(', ')
  const more = listed.length > MAX_NAMES ? ` and ${listed.length - MAX_NAMES} more` : ''
  const later = actions.includes(UNLISTED_ACTION)
    ? `${listed.length > 0 ? ', and ' : ''}any S3 action AWS adds later (only "s3:*" covers those)`
    : ''
  return `${shown}${more}${later}`
}

/** Object keys the exporter writes, for naming one that a Resource leaves out. */
function sampleKeys(expected: ExpectedPrincipals): string[] {
  const base = exporterKeysArn(expected)
  const keys: string[] = []
  for (const account of [expected.account, '444455556666']) {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'me-south-1']) {
      for (const [year, month] of [
        ['2026', '01'],
        ['2025', '12'],
      ])
        keys.push(
          `${base}${account}/region=${region}/year=${year}/month=${month}/${year}-${month}-01_prod.snappy.parquet`,
        )
    }
  }

  return keys
}

function resourceGap(statement: Statement, expected: ExpectedPrincipals, onBucket: boolean): string {
  const bucket = bucketArn(expected)
  const matches = (arn: string) =>
    statement.resource
      ? statement.resource.some(p => globMatches(p, arn))
      : !(statement.notResource ?? []).some(p => globMatches(p, arn))
  const written = show(statement.resource ?? statement.notResource ?? [])
  const element = statement.resource ? 'Resource' : 'NotResource'
  if (!matches(bucket) && !sampleKeys(expected).some(matches)) {
    return `its ${element} ${written} does not match bucket ${expected.bucket} at all; the fix is the ${element}: use ["${bucket}", "${bucket}/*"]`
  }

  if (onBucket)
    return `its ${element} ${written} does not match the bucket ARN ${bucket}; the fix is the ${element}: add "${bucket}"`
  const missed = sampleKeys(expected).find(k => !matches(k))
  return `its ${element} ${written} does not cover every key the exporter writes (${exporterKeysArn(expected)}<any account>/region=<any>/...)${missed ? `, e.g. ${missed}` : ''}; the fix is the ${element}: use ["${bucket}", "${bucket}/*"]`
}

/**
 * Why some simulated requests were not denied, in one line, from the Deny statement that came
 * closest: the one meant for them (it has a condition on the check's key) whose principal, action and
 * resource match and which has the fewest conditions that do not hold.
 */
function explainNotDenied(
  policy: PolicyDocument,
  expected: ExpectedPrincipals,
  failures: Simulated[],
  all: Simulated[],
  what: string,
  meantFor: (s: Statement) => boolean,
  none: string,
): string {
  const count = `${failures.length} of ${all.length} simulated ${what} are not denied`
  const first = failures[0]
  if (!first) return ''
  const meant = policy.statements.filter(s => s.effect === 'Deny' && meantFor(s))
  if (meant.length === 0) return `${none}: ${count}, e.g. ${describeRequest(first.request)}`

  const outcomeOf = (failure: Simulated, statement: Statement) =>
    failure.decision.statements[statement.index] ?? evaluateStatement(statement, toRequest(failure.request, expected))
  let best: {failure: Simulated; outcome: ReturnType<typeof evaluateStatement>; score: number} | undefined
  for (const failure of failures) {
    for (const statement of meant) {
      const outcome = outcomeOf(failure, statement)
      const inScope = outcome.principal && outcome.action && outcome.resource
      const score = (inScope ? 0 : 1000) + outcome.conditions.filter(c => c.result === false).length
      if (!best || score < best.score) best = {failure, outcome, score}
    }
  }

  if (!best) return count
  const {failure, outcome} = best
  const label = statementLabel(outcome.statement)
  const example = describeRequest(failure.request)
  if (!(outcome.principal && outcome.action && outcome.resource)) {
    const statement = outcome.statement
    if (!outcome.principal) {
      const how = statement.notPrincipal ? ' (its NotPrincipal exempts it)' : ''
      return `statement ${label} is meant to deny ${what} but does not apply to ${failure.request.who.label}${how}: ${count}, e.g. ${example}`
    }

    if (!outcome.action) {
      // Every request this statement would deny but for its action: those are the actions it leaves out.
      const left = failures.filter(f => {
        const o = outcomeOf(f, statement)
        return o.principal && o.resource && !o.action && o.condition !== false
      })
      const actions = left.length > 0 ? left.map(f => f.request.action) : [failure.request.action]
      const actionCount = new Set(actions.filter(x => x !== UNLISTED_ACTION)).size
      return `statement ${label} is meant to deny ${what} but its ${statement.action ? 'Action' : 'NotAction'} leaves out ${actionCount} of the ${LISTED_ACTIONS} S3 actions on a bucket and its objects: ${namesOf(actions)}; ${count}, e.g. ${example}`
    }

    return `statement ${label} is meant to deny ${what} but ${resourceGap(statement, expected, typeof failure.request.resource === 'string')}; ${count}, e.g. ${example}`
  }

  const falseOnes = outcome.conditions.filter(c => c.result === false)
  const because = falseOnes
    .map(c => `${c.entry.key} ${c.entry.operator} ${show(c.entry.values)} is false (${c.note})`)
    .join('; ')
  if (outcome.conditions.length < 2) return `statement ${label} does not deny ${example}: ${because}; ${count}`

  const neverApplies = all.every(s => s.decision.statements[outcome.statement.index]?.applies === false)
  const keys = outcome.statement.conditions.map(keyOf)
  const impossible =
    keys.includes('aws:securetransport') && keys.includes('s3:tlsversion')
      ? ' (a plain-HTTP request carries no TLS version, so no request meets them all)'
      : ''
  const head = `the deny conditions are in one statement (${label}) and IAM ANDs them, so it denies only a request that is at once ${conjunction(outcome.statement.conditions.map(describeEntry))}`
  return neverApplies
    ? `${head}${impossible}: it denies none of the ${all.length} simulated ${what}, e.g. ${example} gets through`
    : `${head}: ${example} is not denied because ${because}; ${count}`
}

function undecidedNotes(result: Simulated): string[] {
  return result.decision.statements
    .filter(s => s.applies === 'unknown')
    .flatMap(s =>
      s.conditions.filter(c => c.result === 'unknown').map(c => `statement ${statementLabel(s.statement)}: ${c.note}`),
    )
}

function explainUndecided(undecided: Simulated[], total: number): string {
  const first = undecided[0]
  if (!first) return ''
  return `cannot tell whether ${describeRequest(first.request)} is denied: ${[...new Set(undecidedNotes(first))].join('; ')} (${undecided.length} of ${total} simulated requests undecided)`
}

function denyingStatements(results: Simulated[]): Statement[] {
  const seen = new Map<number, Statement>()
  for (const r of results)
    for (const s of r.decision.statements)
      if (s.statement.effect === 'Deny' && s.applies === true) seen.set(s.statement.index, s.statement)
  return [...seen.values()].sort((a, b) => a.index - b.index)
}

const statementJson = (expected: ExpectedPrincipals, condition: string) =>
  `Effect "Deny", Principal "*", Action "s3:*", Resource ["${bucketArn(expected)}", "${bucketArn(expected)}/*"], Condition ${condition}`

const onlyUnlisted = (results: Simulated[]) =>
  results.length > 0 && results.every(r => r.request.action === UNLISTED_ACTION)
const futureGap = (what: string, results: Simulated[]) =>
  `every S3 action this tool lists is denied for ${what}, but not actions AWS adds later (${results.length} simulated requests, e.g. ${describeRequest((results[0] as Simulated).request)}): write "s3:*" instead of a list`

function transportCheck(
  id: 'https-only' | 'tls-1.2',
  policy: PolicyState,
  expected: ExpectedPrincipals,
  transports: Transport[],
  what: string,
  key: string,
  condition: string,
): Check {
  const fix = `Add a statement of its own: ${statementJson(expected, condition)} (${flag('printRecommended')} prints a complete policy).`
  if (policy.state === 'unreadable')
    return check(id, 'warn', `cannot read the bucket policy: ${policy.reason}`, policyReadFix(policy.reason))
  if (policy.state === 'absent') return check(id, 'fail', `the bucket has no policy, so nothing denies ${what}`, fix)
  const {expected: callers, others} = simulatedCallers(expected, policy.policy)
  // Every request must be denied for certain, so each is asked the way that favours the caller.
  const all = simulate(
    policy.policy,
    expected,
    requestsFor(expected, [...callers, ...others], transports, ALL_ACTIONS),
    'intruder',
  )
  const notDenied = all.filter(r => r.decision.deny === false)
  if (notDenied.length > 0 && !onlyUnlisted(notDenied)) {
    const listed = notDenied
      .filter(r => r.request.action !== UNLISTED_ACTION)
      .concat(notDenied.filter(r => r.request.action === UNLISTED_ACTION))
    const reason = explainNotDenied(
      policy.policy,
      expected,
      listed,
      all,
      what,
      s => hasKey(s, k => k === key),
      `no Deny statement has a ${key} condition`,
    )
    return check(
      id,
      'fail',
      reason,
      fix,
      detailLines(listed, r => `not denied: ${describeRequest(r.request)}`),
    )
  }

  const undecided = all.filter(r => r.decision.deny === 'unknown')
  if (undecided.length > 0)
    return check(
      id,
      'warn',
      explainUndecided(undecided, all.length),
      fix,
      detailLines(undecided, r => `undecided: ${describeRequest(r.request)}`),
    )
  if (notDenied.length > 0)
    return check(
      id,
      'warn',
      futureGap(what, notDenied),
      fix,
      detailLines(notDenied, r => `not denied: ${describeRequest(r.request)}`),
    )
  return check(
    id,
    'pass',
    `all ${all.length} simulated ${what} (${callers.length + others.length} kinds of caller, every S3 action, the bucket and every key the exporter writes) are denied by ${byStatements(denyingStatements(all))}`,
  )
}

const allowingStatements = (r: Simulated) =>
  r.decision.statements.filter(s => s.statement.effect === 'Allow' && s.applies === true).map(s => s.statement)
const namesService = (s: Statement) => s.principal?.kind === 'listed' && s.principal.service.length > 0

function lockoutReason(locked: Simulated, lockouts: Simulated[], expected: ExpectedPrincipals): string {
  const {who} = locked.request
  const by = locked.decision.statements
    .filter(s => s.statement.effect === 'Deny' && s.applies === true)
    .map(s => s.statement)
  const noAllow = by.length === 0
  const head = noAllow
    ? `no Allow statement grants ${describeRequest(locked.request)} (a caller of another account needs one in this policy)`
    : `${byStatements(by)} denies ${describeRequest(locked.request)}, which the pipeline needs`
  const notes: string[] = []
  if (by.some(s => s.notPrincipal) && who.caller.kind === 'aws' && who.caller.roleArn) {
    notes.push(
      `NotPrincipal exempts only the identities it lists, and IAM matches the session ARN ${who.caller.arn.replace(/[^/]+$/, '<session>')} with the account, not the role ARN`,
    )
  }

  if (who.role === 'quicksight' && expected.quicksightDefaulted)
    notes.push(
      `that is the default QuickSight role, as no ${setting('quicksightRoleArn')} was given: give it if QuickSight reads S3 with another role`,
    )
  const admins = lockouts.filter(r => r.request.who.role === 'admin')
  const adminCount = expected.adminRoles.length
  if (adminCount > 0 && new Set(admins.map(r => r.request.who.label)).size === adminCount) {
    notes.push(
      `it also locks out every bucket administrator (${adminCount}), so only the account's root user could change or remove the policy`,
    )
  }

  return `${head}${notes.length > 0 ? ` (${notes.join('; ')})` : ''} (${lockouts.length} such requests)`
}

function principalsCheck(policy: PolicyState, expected: ExpectedPrincipals): Check {
  const tag = `${expected.exporterTag.key}=${expected.exporterTag.value}`
  const exempt = JSON.stringify(namedPrincipals(expected))
  const fix = `Add two statements: ${statementJson(expected, `{"ArnNotLike": {"aws:PrincipalArn": ${exempt}}, "StringNotEquals": {"aws:PrincipalTag/${expected.exporterTag.key}": "${expected.exporterTag.value}"}}`)}, and the same with Condition {"ArnNotLike": {"aws:PrincipalArn": ${exempt}}, "StringNotEquals": {"aws:PrincipalAccount": ${JSON.stringify(exporterAccounts(expected))}}} (${flag('printRecommended')} prints a complete policy).`
  if (policy.state === 'unreadable')
    return check(
      'expected-principals',
      'warn',
      `cannot read the bucket policy: ${policy.reason}`,
      policyReadFix(policy.reason),
    )
  if (policy.state === 'absent') {
    return check(
      'expected-principals',
      'fail',
      'the bucket has no policy, so any role of the account whose IAM policies allow S3 can reach the data',
      fix,
    )
  }

  const doc = policy.policy
  const {expected: callers, others} = simulatedCallers(expected, doc)
  const https = [tls('1.3')]
  const named = callers.filter(c => !c.unnamed)
  const needed = simulate(doc, expected, requestsFor(expected, named, https), 'pipeline')
  const guessed = simulate(
    doc,
    expected,
    requestsFor(
      expected,
      callers.filter(c => c.unnamed),
      https,
    ),
    'pipeline',
  )
  const attempts = simulate(doc, expected, requestsFor(expected, others, https, ALL_ACTIONS), 'intruder')
  // Only an explicit Deny keeps out a role of the bucket's own account (its IAM policies may allow
  // anything); a caller from elsewhere also needs an Allow in this policy.
  const gotThrough = (r: Simulated) =>
    r.decision.deny === false && (r.request.who.sameAccount || r.decision.allow === true)
  const mayGetThrough = (r: Simulated) =>
    !gotThrough(r) && r.decision.deny !== true && (r.request.who.sameAccount || r.decision.allow !== false)
  const isLocked = (r: Simulated) =>
    r.decision.deny === true || (!r.request.who.sameAccount && r.decision.deny === false && r.decision.allow === false)
  const isUnsure = (r: Simulated) =>
    !isLocked(r) && (r.decision.deny === 'unknown' || (!r.request.who.sameAccount && r.decision.allow !== true))
  const allLeaks = attempts.filter(gotThrough)
  // A service named in an Allow acts for whoever asks it: without aws:SourceAccount/aws:SourceArn that is any account.
  const deputy = allLeaks.filter(
    r => r.request.who.caller.kind === 'service' && allowingStatements(r).every(namesService),
  )
  const future = allLeaks.filter(r => !deputy.includes(r) && r.request.action === UNLISTED_ACTION)
  const leaks = onlyUnlisted(allLeaks.filter(r => !deputy.includes(r))) ? [] : allLeaks.filter(r => !deputy.includes(r))
  const lockouts = needed.filter(isLocked)
  const undecided = [...attempts.filter(mayGetThrough), ...needed.filter(isUnsure)]

  const reasons: string[] = []
  // A caller from elsewhere that gets through was let in by this policy's own Allow: say which.
  const foreign = leaks.find(r => !r.request.who.sameAccount)
  if (foreign) {
    const chosen = foreign.decision.statements.flatMap(s => s.conditions.filter(c => c.chosenByCaller).map(c => c.note))
    const taggedPast = doc.statements.filter(
      s =>
        s.effect === 'Deny' &&
        hasKey(s, k => k.startsWith('aws:principaltag/')) &&
        !hasKey(s, k => k === 'aws:principalaccount' || k === 'aws:principalorgid'),
    )
    const tagNote =
      Object.keys(foreign.request.who.tags).length > 0 && taggedPast.length > 0
        ? ` (the tag exemption in ${byStatements(taggedPast)} is not bound to an account: any account can tag its own roles ${tagText(foreign.request.who.tags)})`
        : ''
    reasons.push(
      `${describeRequest(foreign.request)} is allowed by ${byStatements(allowingStatements(foreign))} and no Deny applies${tagNote}${chosen.length > 0 ? ` (${[...new Set(chosen)].join('; ')})` : ''}`,
    )
  }

  const local = leaks.filter(r => r.request.who.sameAccount)
  if (local.length > 0) {
    reasons.push(
      explainNotDenied(
        doc,
        expected,
        local,
        attempts,
        'HTTPS requests by principals outside the expected set',
        s =>
          s.notPrincipal !== undefined ||
          hasKey(s, k => PRINCIPAL_KEYS.includes(k) || k.startsWith('aws:principaltag/')),
        `no Deny statement names the expected principals (by aws:PrincipalArn or tag ${tag}), so IAM policies of the account decide alone`,
      ),
    )
  }

  const locked = lockouts[0]
  if (locked) reasons.push(lockoutReason(locked, lockouts, expected))

  const details = [
    ...detailLines(
      [...leaks.filter(r => !r.request.who.sameAccount), ...local],
      r => `gets through: ${describeRequest(r.request)}`,
    ),
    ...detailLines(lockouts, r => `locked out: ${describeRequest(r.request)}`),
  ]
  if (reasons.length > 0)
    return check(
      'expected-principals',
      'fail',
      reasons.join('; also '),
      locked && leaks.length === 0
        ? `Exempt the expected principals from that Deny (${flag('printRecommended')} shows how).`
        : fix,
      details,
    )

  const warnings: string[] = []
  const warnDetails: string[] = []
  const deputyFirst = deputy[0]
  if (deputyFirst) {
    warnings.push(
      `${describeRequest(deputyFirst.request)} is allowed by ${byStatements(allowingStatements(deputyFirst))}, which names the service without an aws:SourceAccount or aws:SourceArn condition (confused deputy: the service acts for any account that asks it)`,
    )
    warnDetails.push(...detailLines(deputy, r => `gets through: ${describeRequest(r.request)}`))
  }

  const guessedLock = guessed.filter(isLocked)
  const crawler = guessedLock[0]
  if (crawler) {
    const by = crawler.decision.statements
      .filter(s => s.statement.effect === 'Deny' && s.applies === true)
      .map(s => s.statement)
    warnings.push(
      `no ${setting('crawlerRoleArn')} was given, and ${byStatements(by)} denies every role of the account it does not name, so it would lock out the Glue crawler: give ${flag('crawlerRoleArn')} and exempt that role`,
    )
  }

  if (future.length > 0 && leaks.length === 0) warnings.push(futureGap('principals outside the expected set', future))
  if (undecided.length > 0) warnings.push(explainUndecided(undecided, attempts.length + needed.length))
  warnDetails.push(...detailLines(undecided, r => `undecided: ${describeRequest(r.request)}`))
  if (warnings.length > 0) return check('expected-principals', 'warn', warnings.join('; also '), fix, warnDetails)

  return check(
    'expected-principals',
    'pass',
    `${attempts.length} simulated HTTPS requests by ${others.length} kinds of other caller (every S3 action) are denied (${denyingStatements(attempts).length > 0 ? `by ${byStatements(denyingStatements(attempts))}` : 'none is allowed by this policy'}); the ${named.length} expected principals' sessions are not denied`,
  )
}

const tagText = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')

function publicAllowCheck(policy: PolicyState, expected: ExpectedPrincipals): Check {
  const id = 'no-public-allow'
  if (policy.state === 'unreadable')
    return check(id, 'warn', `cannot read the bucket policy: ${policy.reason}`, policyReadFix(policy.reason))
  if (policy.state === 'absent') return check(id, 'pass', 'the bucket has no policy, so no statement allows anyone')
  const {others} = simulatedCallers(expected, policy.policy)
  const outsiders: SimulatedCaller[] = others.filter(c => !c.sameAccount && c.caller.kind !== 'service')
  const requests = requestsFor(expected, outsiders, [tls('1.3')], ALL_ACTIONS)
  const anonymous = {kind: 'anonymous'} as const
  const open = policy.policy.statements.filter(
    s =>
      s.effect === 'Allow' && evaluateStatement(s, {caller: anonymous, action: '', resource: '', keys: {}}).principal,
  )
  if (open.length === 0) return check(id, 'pass', 'no Allow statement names Principal "*"')

  const fix = (s: Statement) =>
    `In statement ${statementLabel(s)}, name the principals instead of "*", or add a condition on aws:PrincipalAccount or aws:PrincipalArn that names your accounts (tags, headers, IP ranges and organization wildcards do not keep other accounts out).`
  const restrictedBy: string[] = []
  const warnings: string[] = []
  for (const statement of open) {
    const who = statement.principal ? 'Principal "*"' : 'NotPrincipal (everyone it does not list)'
    const outcomes = requests.map(request => ({
      request,
      outcome: evaluateStatement(statement, toRequest(request, expected, 'intruder')),
    }))
    const matched = outcomes.filter(o => o.outcome.applies === true)
    const firstMatch = matched[0]
    if (firstMatch) {
      const chosen = [...new Set(firstMatch.outcome.conditions.filter(c => c.result === true).map(c => c.note))]
      const conditions =
        statement.conditions.length === 0
          ? 'it has no condition'
          : `its conditions do not keep other accounts out (${chosen.join('; ')})`
      return check(
        id,
        'fail',
        `statement ${statementLabel(statement)} allows ${who} and ${conditions}: ${describeRequest(firstMatch.request)} matches it`,
        fix(statement),
        matched.slice(0, MAX_DETAILS).map(o => `allowed: ${describeRequest(o.request)}`),
      )
    }

    const unsure = outcomes.find(o => o.outcome.applies === 'unknown')
    if (unsure) {
      const notes = [...new Set(unsure.outcome.conditions.filter(c => c.result === 'unknown').map(c => c.note))]
      warnings.push(
        `cannot tell whether statement ${statementLabel(statement)} (Allow, ${who}) lets outsiders in: ${notes.join('; ')}, e.g. ${describeRequest(unsure.request)}`,
      )
      continue
    }

    restrictedBy.push(
      `${statementLabel(statement)} (by ${[...new Set(statement.conditions.map(c => c.key))].join(', ') || 'its action and resource'})`,
    )
  }

  const first = open[0] as Statement
  if (warnings.length > 0) return check(id, 'warn', warnings.join('; also '), fix(first))
  return check(
    id,
    'pass',
    `Allow for Principal "*" only under conditions that bind the caller to the expected accounts: statement ${restrictedBy.join(', ')}`,
  )
}

function sizeCheck(policy: PolicyState): Check {
  const id = 'policy-size'
  if (policy.state === 'absent') return check(id, 'pass', 'the bucket has no policy')
  if (policy.state === 'unreadable') return check(id, 'skipped', `cannot read the bucket policy: ${policy.reason}`)
  const {size} = policy.policy
  if (size > MAX_POLICY_BYTES) {
    return check(
      id,
      'fail',
      `the policy is ${size} bytes without whitespace; S3 refuses bucket policies over ${MAX_POLICY_BYTES} bytes (20 KB), so it cannot be applied`,
      'Merge statements (one statement can list several actions, resources and principals) until it fits in 20 KB.',
    )
  }

  return check(id, 'pass', `${size} of the ${MAX_POLICY_BYTES} bytes S3 accepts`)
}

function encryptionCheck(settings: BucketSettings, bucket: string): Check {
  const id = 'default-encryption'
  const fix = `aws s3api put-bucket-encryption --bucket ${bucket} --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}'`
  const reading = settings.encryption
  if (reading.state === 'unreadable')
    return check(
      id,
      'warn',
      `cannot read the encryption configuration: ${reading.reason}`,
      readFix(reading.reason, 's3:GetEncryptionConfiguration'),
    )
  if (reading.state === 'not-configured')
    return check(id, 'fail', 'the bucket has no default encryption configuration', fix)
  const rule = reading.value.find(
    r => r.algorithm !== undefined && ['AES256', 'aws:kms', 'aws:kms:dsse'].includes(r.algorithm),
  )
  if (!rule)
    return check(
      id,
      'fail',
      `no rule sets SSE-S3 or SSE-KMS as the default (found ${reading.value.map(r => r.algorithm ?? 'no algorithm').join(', ') || 'no rules'})`,
      fix,
    )
  const kind =
    rule.algorithm === 'AES256'
      ? 'SSE-S3 (AES256)'
      : `SSE-KMS (${rule.algorithm}${rule.kmsKeyId ? `, key ${rule.kmsKeyId}` : ', AWS managed key'})`
  return check(id, 'pass', `default encryption is ${kind}`)
}

function publicAccessBlockCheck(settings: BucketSettings, bucket: string): Check {
  const id = 'public-access-block'
  const fix = `aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`
  const reading = settings.publicAccessBlock
  if (reading.state === 'unreadable')
    return check(
      id,
      'warn',
      `cannot read the public access block: ${reading.reason}`,
      readFix(reading.reason, 's3:GetBucketPublicAccessBlock'),
    )
  if (reading.state === 'not-configured')
    return check(
      id,
      'fail',
      'the bucket has no public access block configuration (an account-level block is not checked)',
      fix,
    )
  const off = Object.entries(reading.value)
    .filter(([, on]) => !on)
    .map(([name]) => name)
  if (off.length > 0) return check(id, 'fail', `${conjunction(off)} ${off.length === 1 ? 'is' : 'are'} off`, fix)
  return check(id, 'pass', 'BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are on')
}

function ownershipCheck(settings: BucketSettings, bucket: string): Check {
  const id = 'object-ownership'
  const fix = `aws s3api put-bucket-ownership-controls --bucket ${bucket} --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'`
  const reading = settings.objectOwnership
  if (reading.state === 'unreadable')
    return check(
      id,
      'warn',
      `cannot read the ownership controls: ${reading.reason}`,
      readFix(reading.reason, 's3:GetBucketOwnershipControls'),
    )
  if (reading.state === 'not-configured')
    return check(
      id,
      'warn',
      'the bucket has no ownership controls, so ACLs are enabled and writers from other accounts own their objects',
      fix,
    )
  if (reading.value !== 'BucketOwnerEnforced')
    return check(id, 'warn', `object ownership is ${reading.value}: ACLs are enabled`, fix)
  return check(
    id,
    'pass',
    'object ownership is BucketOwnerEnforced: ACLs are disabled and the bucket owner owns every object',
  )
}

/** Decides every check; `settings` undefined (a policy file) marks the bucket-setting checks skipped. */
export function verify(
  expected: ExpectedPrincipals,
  policy: PolicyState,
  settings: BucketSettings | undefined,
  source: VerificationReport['source'],
): VerificationReport {
  const skipped = (id: CheckId) =>
    check(
      id,
      'skipped',
      'a policy file was analysed; bucket settings are read only from the live bucket',
      `Run without ${flag('policyFile')} to check the bucket's settings.`,
    )
  const checks = [
    transportCheck(
      'https-only',
      policy,
      expected,
      [PLAIN_HTTP],
      'plain-HTTP requests',
      'aws:securetransport',
      '{"Bool": {"aws:SecureTransport": "false"}}',
    ),
    transportCheck(
      'tls-1.2',
      policy,
      expected,
      [tls('1.0'), tls('1.1')],
      'requests over TLS 1.0 or 1.1',
      's3:tlsversion',
      '{"NumericLessThan": {"s3:TlsVersion": "1.2"}}',
    ),
    principalsCheck(policy, expected),
    publicAllowCheck(policy, expected),
    sizeCheck(policy),
    settings ? encryptionCheck(settings, expected.bucket) : skipped('default-encryption'),
    settings ? publicAccessBlockCheck(settings, expected.bucket) : skipped('public-access-block'),
    settings ? ownershipCheck(settings, expected.bucket) : skipped('object-ownership'),
  ]
  const counts: Record<CheckStatus, number> = {pass: 0, fail: 0, warn: 0, skipped: 0}
  for (const c of checks) counts[c.status]++
  // Every policy check needs the document: without it, warnings on all of them prove nothing.
  const inconclusive =
    policy.state === 'unreadable'
      ? `no policy check could run: cannot read the bucket policy: ${policy.reason}`
      : undefined
  return {
    bucket: expected.bucket,
    source,
    verdict: counts.fail > 0 ? 'fail' : inconclusive ? 'inconclusive' : counts.warn > 0 ? 'warn' : 'pass',
    ...(inconclusive && counts.fail === 0 ? {inconclusive} : {}),
    counts,
    checks,
  }
}

const VERDICT_WORDS: Record<VerificationReport['verdict'], string> = {
  pass: 'PASS',
  warn: 'PASS with warnings',
  fail: 'FAIL',
  inconclusive: 'INCONCLUSIVE',
}

/** The one line under the table. */
export function verdictLine(report: VerificationReport): string {
  const {counts} = report
  const from = report.source.kind === 'file' ? `policy file ${report.source.path}` : 'live bucket settings'
  const tally = `${counts.pass} passed, ${counts.fail} failed, ${counts.warn} warned, ${counts.skipped} skipped`
  const why = report.inconclusive ? ` (${report.inconclusive})` : ''
  return `Verdict: ${VERDICT_WORDS[report.verdict]}${why} for bucket ${report.bucket} (${from}): ${tally}`
}

/**
 * The error a report ends the run with, if any: a failed check always; with `strict`, a warning too,
 * since a warning is an undecided question and CI must not take it for a pass.
 */
export function verificationFailure(report: VerificationReport, strict: boolean): PolicyCheckFailedError | undefined {
  if (report.verdict === 'inconclusive') {
    const policyCheck = report.checks.find(c => c.id === 'https-only')
    return new PolicyCheckInconclusiveError(
      `The check of bucket ${report.bucket} is inconclusive: ${report.inconclusive ?? 'no policy check could run'}`,
      {suggestions: policyCheck?.fix ? [policyCheck.fix] : []},
    )
  }

  if (report.verdict !== 'fail' && !(strict && report.verdict === 'warn')) return undefined
  const failed = report.checks.filter(c => c.status === 'fail').map(c => c.id)
  const warned = report.checks.filter(c => c.status === 'warn').map(c => c.id)
  const message =
    failed.length > 0
      ? `${failed.length} of ${report.checks.length} checks failed for bucket ${report.bucket}: ${failed.join(', ')}`
      : `${warned.length} of ${report.checks.length} checks warned for bucket ${report.bucket} and ${flag('strict')} is set: ${warned.join(', ')}`
  return new PolicyCheckFailedError(message, {
    suggestions: [
      `Each failed or warned check above says why and what to change; ${flag('printRecommended')} prints a policy that passes the policy checks.`,
    ],
  })
}
