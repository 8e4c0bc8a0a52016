import {ConfigError, InvalidInputError} from '../errors.js'
import type {InputName} from '../validate.js'
import type {PolicyDocument} from './document.js'
import {type Caller, type Request, type RequestResource, type Stance, UNLISTED_ACTION} from './evaluator.js'
import {S3_BUCKET_ACTIONS, S3_OBJECT_ACTIONS} from './s3-actions.js'
import {flag} from '../settings.js'

/**
 * Who is expected to reach the data (bucket administrators, the Glue crawler role, the QuickSight
 * service role, exporter roles carrying a tag), and the simulated callers and requests the checks are
 * decided with.
 */

export interface ExporterTag {
  key: string
  value: string
}

export interface ExpectedPrincipals {
  bucket: string
  partition: string
  /** The bucket owner's account: the one of the crawler role, else of the first administrator. */
  account: string
  adminRoles: string[]
  crawlerRole?: string
  quicksightRole: string
  /** No --quicksight-role-arn was given: the role is the account's default QuickSight service role. */
  quicksightDefaulted: boolean
  exporterTag: ExporterTag
  /** Accounts besides the bucket's whose tagged roles export into the bucket (--exporter-account). */
  exporterAccounts: string[]
  /** The key prefix the exporter writes under ('' for none). */
  prefix: string
}

export const DEFAULT_EXPORTER_TAG = 'irsa-kubecost-s3-exporter=true'
export const QUICKSIGHT_SERVICE_ROLE = 'service-role/aws-quicksight-service-role-v0'

const IAM_ARN_RE = /^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)\/([\w+=,.@/*?-]+)$/

export interface PrincipalArn {
  arn: string
  partition: string
  account: string
}

/** An IAM role ARN (or user ARN, with `users`); wildcards only where a condition can hold them (administrators). */
export function parsePrincipalArn(
  input: string,
  name: InputName,
  options: {users?: boolean; wildcards?: boolean} = {},
): PrincipalArn {
  const arn = input.trim()
  const match = IAM_ARN_RE.exec(arn)
  const kind = options.users ? 'role or user' : 'role'
  if (!match || (match[3] === 'user' && !options.users)) {
    throw new InvalidInputError(name.flag, name.env, input, `not an IAM ${kind} ARN`, {
      suggestions: [
        `Give the full ARN, e.g. arn:aws:iam::111122223333:${options.users ? 'role/bucket-admin' : 'role/kubecost_glue_crawler_role'}`,
      ],
    })
  }

  if (!options.wildcards && /[*?]/.test(arn))
    throw new InvalidInputError(name.flag, name.env, input, 'wildcards are not allowed here')
  return {arn, partition: match[1] ?? 'aws', account: match[2] ?? ''}
}

export function parseAccountId(input: string, name: InputName): string {
  const account = input.trim()
  if (!/^\d{12}$/.test(account))
    throw new InvalidInputError(name.flag, name.env, input, 'an AWS account id is 12 digits', {
      suggestions: ['For example 444455556666.'],
    })
  return account
}

export function parseExporterTag(input: string, name: InputName): ExporterTag {
  const at = input.indexOf('=')
  const key = input.slice(0, at).trim()
  const value = input.slice(at + 1).trim()
  if (at === -1 || key === '' || value === '') {
    throw new InvalidInputError(name.flag, name.env, input, 'must be KEY=VALUE', {
      suggestions: [`For example ${DEFAULT_EXPORTER_TAG}.`],
    })
  }

  return {key, value}
}

export interface ExpectedInput {
  bucket: string
  adminRoles: readonly PrincipalArn[]
  crawlerRole?: PrincipalArn
  quicksightRole?: PrincipalArn
  exporterTag: ExporterTag
  exporterAccounts?: readonly string[]
  prefix?: string
}

export function expectedPrincipals(input: ExpectedInput): ExpectedPrincipals {
  const owner = input.crawlerRole ?? input.adminRoles[0] ?? input.quicksightRole
  if (!owner) {
    throw new ConfigError('No expected principals given: the checks need to know who may reach the data', {
      suggestions: [
        `Give ${flag('crawlerRoleArn')} and ${flag('bucketAdminRole')} (repeatable); the QuickSight role defaults to the same account's service role.`,
      ],
    })
  }

  return {
    bucket: input.bucket,
    partition: owner.partition,
    account: owner.account,
    adminRoles: input.adminRoles.map(r => r.arn),
    ...(input.crawlerRole ? {crawlerRole: input.crawlerRole.arn} : {}),
    quicksightRole:
      input.quicksightRole?.arn ?? `arn:${owner.partition}:iam::${owner.account}:role/${QUICKSIGHT_SERVICE_ROLE}`,
    quicksightDefaulted: input.quicksightRole === undefined,
    exporterTag: input.exporterTag,
    exporterAccounts: [...new Set(input.exporterAccounts ?? [])].filter(a => a !== owner.account),
    prefix: input.prefix ?? '',
  }
}

/** The ARNs the recommended policy exempts by name (the exporter roles are exempted by their tag). */
export function namedPrincipals(expected: ExpectedPrincipals): string[] {
  return [...expected.adminRoles, ...(expected.crawlerRole ? [expected.crawlerRole] : []), expected.quicksightRole]
}

export function bucketArn(expected: ExpectedPrincipals): string {
  return `arn:${expected.partition}:s3:::${expected.bucket}`
}

/** Every object ARN the exporter can write starts with this: any account, region, year and month follow. */
export function exporterKeysArn(expected: ExpectedPrincipals): string {
  return `${bucketArn(expected)}/${expected.prefix ? `${expected.prefix}/` : ''}account_id=`
}

/** The accounts whose tagged roles are exporters: the bucket's and each --exporter-account. */
export function exporterAccounts(expected: ExpectedPrincipals): string[] {
  return [expected.account, ...expected.exporterAccounts]
}

// ---- simulation ----

export type Transport = {secure: false} | {secure: true; tls: '1.0' | '1.1' | '1.2' | '1.3'}
export const PLAIN_HTTP: Transport = {secure: false}
export const tls = (version: '1.0' | '1.1' | '1.2' | '1.3'): Transport => ({secure: true, tls: version})

export type PipelineRole = 'admin' | 'crawler' | 'quicksight' | 'exporter'

export interface SimulatedCaller {
  /** How messages name it. */
  label: string
  caller: Caller
  tags: Readonly<Record<string, string>>
  /** Whether the policy should let it reach the data. */
  expected: boolean
  /** A caller from the bucket's own account can be allowed by its IAM policies alone, so only an explicit Deny stops it. */
  sameAccount: boolean
  /** What this caller needs to do (the expected ones); for the others, what they must not. */
  actions: ReadonlyArray<SimulatedAction>
  /** For an expected caller, which part of the pipeline it is. */
  role?: PipelineRole
  /** A pipeline role the flags do not name (no --crawler-role-arn): the analyzer can only guess it is an unnamed role of the account. */
  unnamed?: boolean
}

export interface SimulatedAction {
  action: string
  on: 'bucket' | 'object'
}

export interface SimulatedRequest {
  who: SimulatedCaller
  action: string
  /** The bucket ARN, or every key the exporter can write. */
  resource: RequestResource
  transport: Transport
}

const LIST: SimulatedAction = {action: 's3:ListBucket', on: 'bucket'}
const LOCATION: SimulatedAction = {action: 's3:GetBucketLocation', on: 'bucket'}
const GET: SimulatedAction = {action: 's3:GetObject', on: 'object'}
const PUT: SimulatedAction = {action: 's3:PutObject', on: 'object'}
const DELETE: SimulatedAction = {action: 's3:DeleteObject', on: 'object'}
const GET_POLICY: SimulatedAction = {action: 's3:GetBucketPolicy', on: 'bucket'}
const PUT_POLICY: SimulatedAction = {action: 's3:PutBucketPolicy', on: 'bucket'}

/** Every S3 action on the bucket and on its objects, and one standing for actions AWS adds later. */
export const ALL_ACTIONS: readonly SimulatedAction[] = [
  ...S3_BUCKET_ACTIONS.map(action => ({action, on: 'bucket' as const})),
  {action: UNLISTED_ACTION, on: 'bucket'},
  ...S3_OBJECT_ACTIONS.map(action => ({action, on: 'object' as const})),
  {action: UNLISTED_ACTION, on: 'object'},
]

const ADMIN_NEEDS = [LIST, LOCATION, GET_POLICY, PUT_POLICY, GET, PUT, DELETE]
export const EXPORTER_NEEDS = [LIST, PUT]

/** Keys the simulation sets when they apply, so their absence is a fact and not a gap. */
const PRESENCE_KEYS =
  /^(aws:securetransport|s3:tlsversion|aws:resourceaccount|aws:principal(arn|account|type|isawsservice|servicename|servicenamelist|tag\/.*)|aws:source(account|arn|owner))$/
/** s3: keys that are not request parameters the caller writes. */
const S3_CONTEXT_KEYS =
  /^s3:(existingobjecttag\/.*|dataaccesspoint(arn|account)|accesspointnetworkorigin|resourceaccount|accessgrantsinstancearn)$/
/** Keys the caller sets itself: headers and request parameters. */
const CALLER_KEYS = /^(aws:(referer|useragent|requesttag\/.*|tagkeys|sourceidentity|requestedregion)|s3:.*)$/

/** Keys the tool models, for the README and messages. */
export function keyKind(lowerKey: string): 'chosen' | 'unknown' | 'missing' {
  if (PRESENCE_KEYS.test(lowerKey)) return 'missing'
  if (CALLER_KEYS.test(lowerKey) && !S3_CONTEXT_KEYS.test(lowerKey)) return 'chosen'
  return 'unknown'
}

/** A concrete role name that a wildcard administrator pattern such as `.../AWSReservedSSO_Admin_*` matches. */
const concrete = (text: string) => text.replaceAll('*', 'example').replaceAll('?', 'x')

/** The identity that signs requests for a role ARN: a session of it; a user signs as itself. */
function sessionOf(roleOrUser: string, session: string, fallbackAccount: string): Caller & {kind: 'aws'} {
  const arn = concrete(roleOrUser)
  const parts = arn.split(':')
  const account = parts[4] ?? fallbackAccount
  const resource = parts.slice(5).join(':')
  if (!resource.startsWith('role/')) return {kind: 'aws', arn, account}
  const name = resource.split('/').at(-1) ?? resource
  return {
    kind: 'aws',
    arn: `arn:${parts[1] ?? 'aws'}:sts::${account}:assumed-role/${name}/${session}`,
    account,
    roleArn: arn,
  }
}

function roleSession(partition: string, account: string, name: string, session = 'session'): Caller & {kind: 'aws'} {
  return sessionOf(`arn:${partition}:iam::${account}:role/${name}`, session, account)
}

const MAX_VARIANTS = 12

/** The principal tags the policy's conditions mention, with the values it compares them to. */
function mentionedTags(policy: PolicyDocument | undefined, expected: ExpectedPrincipals): Array<[string, string]> {
  const found = new Map<string, [string, string]>()
  const add = (key: string, value: string) => found.set(`${key.toLowerCase()}=${value}`, [key, value])
  add(expected.exporterTag.key, expected.exporterTag.value)
  for (const s of policy?.statements ?? []) {
    for (const c of s.conditions) {
      if (!c.key.toLowerCase().startsWith('aws:principaltag/')) continue
      for (const v of c.values) add(c.key.slice('aws:PrincipalTag/'.length), concrete(v))
    }
  }

  return [...found.values()].slice(0, MAX_VARIANTS)
}

/** Accounts the policy names that are not the bucket's or an exporter account: each may be granted something. */
function mentionedAccounts(policy: PolicyDocument | undefined, expected: ExpectedPrincipals): string[] {
  const own = new Set(exporterAccounts(expected))
  const texts = (policy?.statements ?? []).flatMap(s => [
    ...(s.principal?.kind === 'listed' ? s.principal.aws : []),
    ...(s.notPrincipal?.kind === 'listed' ? s.notPrincipal.aws : []),
    ...s.conditions.flatMap(c => c.values),
  ])
  const accounts = new Set<string>()
  for (const text of texts)
    for (const m of text.matchAll(/(?<!\d)\d{12}(?!\d)/g)) if (!own.has(m[0])) accounts.add(m[0])
  return [...accounts].slice(0, MAX_VARIANTS)
}

function freshAccount(taken: readonly string[]): string {
  for (const candidate of ['999999999999', '888888888888', '777777777777', '666666666666'])
    if (!taken.includes(candidate)) return candidate
  return '555555555555'
}

function servicesNamed(policy: PolicyDocument | undefined): string[] {
  const named = (policy?.statements ?? []).flatMap(s => [
    ...(s.principal?.kind === 'listed' ? s.principal.service : []),
    ...(s.notPrincipal?.kind === 'listed' ? s.notPrincipal.service : []),
  ])
  return [...new Set([...named.map(n => n.toLowerCase()), 'cloudtrail.amazonaws.com'])].slice(0, MAX_VARIANTS)
}

const tagText = (tags: Readonly<Record<string, string>>) => {
  const list = Object.entries(tags).map(([k, v]) => `${k}=${v}`)
  return list.length === 0 ? 'untagged' : `tagged ${list.join(', ')}`
}

/**
 * The callers the checks are decided with. Expected: a session of each expected role (IAM matches the
 * session ARN for NotPrincipal, the role ARN for aws:PrincipalArn), the exporter of each exporter
 * account. Others: roles of the bucket's account outside the set, roles of every account the policy
 * names and of one it does not, each untagged and with each tag the policy mentions (an account tags
 * its own roles as it likes), the expected roles' names in another account, an anonymous caller, and
 * AWS services acting for another account.
 */
export function simulatedCallers(
  expected: ExpectedPrincipals,
  policy?: PolicyDocument,
): {expected: SimulatedCaller[]; others: SimulatedCaller[]} {
  const {partition, account, exporterTag} = expected
  const tagged = {[exporterTag.key]: exporterTag.value}
  const expectedCallers: SimulatedCaller[] = [
    ...expected.adminRoles.map(arn => ({
      label: `a session of administrator ${arn}`,
      caller: sessionOf(arn, 'admin-session', account),
      tags: {},
      expected: true,
      sameAccount: true,
      actions: ADMIN_NEEDS,
      role: 'admin' as const,
    })),
    expected.crawlerRole
      ? {
          label: `a session of crawler role ${expected.crawlerRole}`,
          caller: sessionOf(expected.crawlerRole, 'crawler-session', account),
          tags: {},
          expected: true,
          sameAccount: true,
          actions: [LIST, GET],
          role: 'crawler' as const,
        }
      : {
          label: `the Glue crawler role (not given: ${flag('crawlerRoleArn')})`,
          caller: roleSession(partition, account, 'unnamed-glue-crawler-role', 'crawler-session'),
          tags: {},
          expected: true,
          sameAccount: true,
          actions: [LIST, GET],
          role: 'crawler' as const,
          unnamed: true,
        },
    {
      label: `a session of QuickSight role ${expected.quicksightRole}`,
      caller: sessionOf(expected.quicksightRole, 'quicksight-session', account),
      tags: {},
      expected: true,
      sameAccount: true,
      actions: [LIST, LOCATION, GET],
      role: 'quicksight' as const,
    },
    ...exporterAccounts(expected).map(acct => ({
      label: `a session of an exporter role of ${acct === account ? 'the account' : `exporter account ${acct}`} tagged ${exporterTag.key}=${exporterTag.value}`,
      caller: roleSession(partition, acct, 'kubecost-s3-exporter', 'exporter-session'),
      tags: tagged,
      expected: true,
      sameAccount: acct === account,
      actions: EXPORTER_NEEDS,
      role: 'exporter' as const,
    })),
  ]

  const tags = mentionedTags(policy, expected)
  const variants: Array<Record<string, string>> = [{}, ...tags.map(([k, v]) => ({[k]: v}))]
  if (tags.length > 1) variants.push(Object.fromEntries(tags))
  const mistag = exporterTag.value === 'false' ? 'no' : 'false'
  const outsider = (
    label: string,
    caller: Caller,
    tagsOf: Record<string, string>,
    sameAccount: boolean,
  ): SimulatedCaller => ({label, caller, tags: tagsOf, expected: false, sameAccount, actions: ALL_ACTIONS})
  const isExporterTag = (v: Record<string, string>) => v[exporterTag.key] === exporterTag.value

  const others: SimulatedCaller[] = [
    outsider(
      'a session of an unlisted role of the account',
      roleSession(partition, account, 'some-other-role'),
      {},
      true,
    ),
    outsider(
      `a session of a role of the account tagged ${exporterTag.key}=${mistag}`,
      roleSession(partition, account, 'mistagged-role'),
      {[exporterTag.key]: mistag},
      true,
    ),
    ...variants
      .filter(v => Object.keys(v).length > 0 && !isExporterTag(v))
      .map(v =>
        outsider(
          `a session of an unlisted role of the account ${tagText(v)}`,
          roleSession(partition, account, 'other-tagged-role'),
          v,
          true,
        ),
      ),
    ...expected.exporterAccounts.map(acct =>
      outsider(
        `a session of an untagged role of exporter account ${acct}`,
        roleSession(partition, acct, 'some-other-role'),
        {},
        false,
      ),
    ),
  ]
  const named = mentionedAccounts(policy, expected)
  const fresh = freshAccount([...exporterAccounts(expected), ...named])
  for (const acct of [...named, fresh]) {
    for (const v of variants)
      others.push(
        outsider(
          `a session of a role of another account (${acct}) ${tagText(v)}`,
          roleSession(partition, acct, 'outside-role'),
          v,
          false,
        ),
      )
  }

  // A role that has an expected role's name, in another account: ArnLike patterns with a wildcard account let it in.
  const arnPatterns = (policy?.statements ?? []).flatMap(s =>
    s.conditions.filter(c => c.key.toLowerCase() === 'aws:principalarn').flatMap(c => c.values),
  )
  const names = [
    ...expected.adminRoles,
    ...(expected.crawlerRole ? [expected.crawlerRole] : []),
    expected.quicksightRole,
    ...arnPatterns.filter(v => /^arn:[^:]*:iam::[^:]*[*?][^:]*:(role|user)\//.test(v)),
  ]
  for (const arn of [...new Set(names)].slice(0, 2 * MAX_VARIANTS)) {
    const parts = arn.split(':')
    if (parts.length < 6) continue
    const elsewhere = [...parts.slice(0, 4), fresh, ...parts.slice(5)].join(':')
    others.push(
      outsider(
        `a session of ${concrete(elsewhere)} (an expected role's name in another account)`,
        sessionOf(elsewhere, 'session', fresh),
        {},
        false,
      ),
    )
  }

  others.push(outsider('an anonymous caller', {kind: 'anonymous'}, {}, false))
  for (const service of servicesNamed(policy))
    others.push(
      outsider(
        `AWS service ${service} acting for another account (${fresh})`,
        {kind: 'service', service, sourceAccount: fresh},
        {},
        false,
      ),
    )
  return {expected: expectedCallers, others}
}

export function requestsFor(
  expected: ExpectedPrincipals,
  callers: readonly SimulatedCaller[],
  transports: readonly Transport[],
  actions?: readonly SimulatedAction[],
): SimulatedRequest[] {
  const bucket = bucketArn(expected)
  const objects = {under: exporterKeysArn(expected)}
  return callers.flatMap(who =>
    (actions ?? who.actions).flatMap(a =>
      transports.map(transport => ({who, action: a.action, resource: a.on === 'bucket' ? bucket : objects, transport})),
    ),
  )
}

export function toRequest(
  simulated: SimulatedRequest,
  expected: ExpectedPrincipals,
  stance: Stance = simulated.who.expected ? 'pipeline' : 'intruder',
): Request {
  const {who, transport} = simulated
  const keys: Record<string, string> = {
    'aws:SecureTransport': String(transport.secure),
    'aws:ResourceAccount': expected.account,
  }
  // A plain-HTTP request has no TLS version at all: the key is missing, not "0".
  if (transport.secure) keys['s3:TlsVersion'] = transport.tls
  const {caller} = who
  if (caller.kind === 'aws') {
    keys['aws:PrincipalArn'] = caller.roleArn ?? caller.arn
    keys['aws:PrincipalAccount'] = caller.account
    keys['aws:PrincipalType'] = caller.roleArn ? 'AssumedRole' : /:root$/.test(caller.arn) ? 'Account' : 'User'
    keys['aws:PrincipalIsAWSService'] = 'false'
    for (const [key, value] of Object.entries(who.tags)) keys[`aws:PrincipalTag/${key}`] = value
  } else if (caller.kind === 'anonymous') {
    keys['aws:PrincipalType'] = 'Anonymous'
    keys['aws:PrincipalIsAWSService'] = 'false'
  } else {
    const source = caller.sourceAccount ?? freshAccount([expected.account, ...expected.exporterAccounts])
    keys['aws:PrincipalIsAWSService'] = 'true'
    keys['aws:PrincipalServiceName'] = caller.service
    keys['aws:SourceAccount'] = source
    keys['aws:SourceArn'] =
      `arn:${expected.partition}:${caller.service.split('.')[0] ?? 'service'}:us-east-1:${source}:resource/other`
  }

  return {caller, action: simulated.action, resource: simulated.resource, keys, keyKind, stance}
}

export function describeTransport(transport: Transport): string {
  return transport.secure ? `TLS ${transport.tls}` : 'plain HTTP'
}

export function describeResource(resource: RequestResource): string {
  return typeof resource === 'string' ? 'the bucket' : 'its objects'
}

export function describeRequest(simulated: SimulatedRequest): string {
  return `${simulated.action} on ${describeResource(simulated.resource)} over ${describeTransport(simulated.transport)} by ${simulated.who.label}`
}
