import {ConfigError, InvalidInputError} from '../errors.js'
import type {InputName} from '../validate.js'
import type {Caller, Request} from './evaluator.js'

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
  exporterTag: ExporterTag
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
export function parsePrincipalArn(input: string, name: InputName, options: {users?: boolean; wildcards?: boolean} = {}): PrincipalArn {
  const arn = input.trim()
  const match = IAM_ARN_RE.exec(arn)
  const kind = options.users ? 'role or user' : 'role'
  if (!match || (match[3] === 'user' && !options.users)) {
    throw new InvalidInputError(name.flag, name.env, input, `not an IAM ${kind} ARN`, {
      suggestions: [`Give the full ARN, e.g. arn:aws:iam::111122223333:${options.users ? 'role/bucket-admin' : 'role/kubecost_glue_crawler_role'}`],
    })
  }

  if (!options.wildcards && /[*?]/.test(arn)) throw new InvalidInputError(name.flag, name.env, input, 'wildcards are not allowed here')
  return {arn, partition: match[1] ?? 'aws', account: match[2] ?? ''}
}

export function parseExporterTag(input: string, name: InputName): ExporterTag {
  const at = input.indexOf('=')
  const key = input.slice(0, at).trim()
  const value = input.slice(at + 1).trim()
  if (at === -1 || key === '' || value === '') {
    throw new InvalidInputError(name.flag, name.env, input, 'must be KEY=VALUE', {suggestions: [`For example ${DEFAULT_EXPORTER_TAG}.`]})
  }

  return {key, value}
}

export interface ExpectedInput {
  bucket: string
  adminRoles: readonly PrincipalArn[]
  crawlerRole?: PrincipalArn
  quicksightRole?: PrincipalArn
  exporterTag: ExporterTag
}

export function expectedPrincipals(input: ExpectedInput): ExpectedPrincipals {
  const owner = input.crawlerRole ?? input.adminRoles[0] ?? input.quicksightRole
  if (!owner) {
    throw new ConfigError('No expected principals given: the checks need to know who may reach the data', {
      suggestions: ['Give --crawler-role-arn and --bucket-admin-role (repeatable); the QuickSight role defaults to the same account\'s service role.'],
    })
  }

  return {
    bucket: input.bucket,
    partition: owner.partition,
    account: owner.account,
    adminRoles: input.adminRoles.map((r) => r.arn),
    ...(input.crawlerRole ? {crawlerRole: input.crawlerRole.arn} : {}),
    quicksightRole: input.quicksightRole?.arn ?? `arn:${owner.partition}:iam::${owner.account}:role/${QUICKSIGHT_SERVICE_ROLE}`,
    exporterTag: input.exporterTag,
  }
}

/** The ARNs the recommended policy exempts by name (the exporter roles are exempted by their tag). */
export function namedPrincipals(expected: ExpectedPrincipals): string[] {
  return [...expected.adminRoles, ...(expected.crawlerRole ? [expected.crawlerRole] : []), expected.quicksightRole]
}

export function bucketArn(expected: ExpectedPrincipals): string {
  return `arn:${expected.partition}:s3:::${expected.bucket}`
}

// ---- simulation ----

export type Transport = {secure: false} | {secure: true; tls: '1.0' | '1.1' | '1.2' | '1.3'}
export const PLAIN_HTTP: Transport = {secure: false}
export const tls = (version: '1.0' | '1.1' | '1.2' | '1.3'): Transport => ({secure: true, tls: version})

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
}

export interface SimulatedAction {
  action: string
  on: 'bucket' | 'object'
}

export interface SimulatedRequest {
  who: SimulatedCaller
  action: string
  resource: string
  transport: Transport
}

const LIST: SimulatedAction = {action: 's3:ListBucket', on: 'bucket'}
const LOCATION: SimulatedAction = {action: 's3:GetBucketLocation', on: 'bucket'}
const GET: SimulatedAction = {action: 's3:GetObject', on: 'object'}
const PUT: SimulatedAction = {action: 's3:PutObject', on: 'object'}
const DELETE: SimulatedAction = {action: 's3:DeleteObject', on: 'object'}
const PUT_POLICY: SimulatedAction = {action: 's3:PutBucketPolicy', on: 'bucket'}

/** What every caller is tried with when a check is about "every request". */
export const ALL_ACTIONS: readonly SimulatedAction[] = [GET, PUT, DELETE, LIST, LOCATION, PUT_POLICY]

/** Keys the simulated request context sets (or leaves out on purpose); a condition on any other key is unknown. */
const MODELLED_KEYS = new Set([
  'aws:securetransport',
  's3:tlsversion',
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principaltype',
  'aws:principalisawsservice',
  'aws:principalservicename',
])
export const isUnmodelledKey = (lowerKey: string) => !MODELLED_KEYS.has(lowerKey) && !lowerKey.startsWith('aws:principaltag/')

/** A concrete role name that a wildcard administrator pattern such as `.../AWSReservedSSO_Admin_*` matches. */
const concrete = (arn: string) => arn.replaceAll('*', 'example').replaceAll('?', 'x')

function role(partition: string, account: string, name: string): Caller & {kind: 'aws'} {
  return {kind: 'aws', arn: `arn:${partition}:iam::${account}:role/${name}`, account}
}

export function simulatedCallers(expected: ExpectedPrincipals): {expected: SimulatedCaller[]; others: SimulatedCaller[]} {
  const {partition, account, exporterTag} = expected
  const iam = (arn: string): Caller => ({kind: 'aws', arn: concrete(arn), account: arn.split(':')[4] ?? account})
  const otherAccount = account === '999999999999' ? '888888888888' : '999999999999'
  const tagged = {[exporterTag.key]: exporterTag.value}
  const expectedCallers: SimulatedCaller[] = [
    ...expected.adminRoles.map((arn) => ({label: `administrator ${arn}`, caller: iam(arn), tags: {}, expected: true, sameAccount: true, actions: ALL_ACTIONS})),
    ...(expected.crawlerRole
      ? [{label: `crawler role ${expected.crawlerRole}`, caller: iam(expected.crawlerRole), tags: {}, expected: true, sameAccount: true, actions: [LIST, GET]}]
      : []),
    {label: `QuickSight role ${expected.quicksightRole}`, caller: iam(expected.quicksightRole), tags: {}, expected: true, sameAccount: true, actions: [LIST, LOCATION, GET]},
    {
      label: `exporter role tagged ${exporterTag.key}=${exporterTag.value}`,
      caller: role(partition, account, 'kubecost-s3-exporter'),
      tags: tagged,
      expected: true,
      sameAccount: true,
      actions: [LIST, PUT],
    },
  ]
  const others: SimulatedCaller[] = [
    {label: 'an unlisted role of the account', caller: role(partition, account, 'some-other-role'), tags: {}, expected: false, sameAccount: true, actions: ALL_ACTIONS},
    {
      label: `a role of the account tagged ${exporterTag.key}=${exporterTag.value === 'false' ? 'no' : 'false'}`,
      caller: role(partition, account, 'mistagged-role'),
      tags: {[exporterTag.key]: exporterTag.value === 'false' ? 'no' : 'false'},
      expected: false,
      sameAccount: true,
      actions: ALL_ACTIONS,
    },
    {label: `a role of another account (${otherAccount})`, caller: role(partition, otherAccount, 'outside-role'), tags: {}, expected: false, sameAccount: false, actions: ALL_ACTIONS},
    {label: 'an anonymous caller', caller: {kind: 'anonymous'}, tags: {}, expected: false, sameAccount: false, actions: ALL_ACTIONS},
  ]
  return {expected: expectedCallers, others}
}

/** A role of another account carrying the exporter tag: tags are set by the role's own account, so they prove nothing. */
export function foreignTaggedCaller(expected: ExpectedPrincipals): SimulatedCaller {
  const otherAccount = expected.account === '999999999999' ? '888888888888' : '999999999999'
  return {
    label: `a role of another account (${otherAccount}) tagged ${expected.exporterTag.key}=${expected.exporterTag.value}`,
    caller: role(expected.partition, otherAccount, 'outside-tagged-role'),
    tags: {[expected.exporterTag.key]: expected.exporterTag.value},
    expected: false,
    sameAccount: false,
    actions: ALL_ACTIONS,
  }
}

export function requestsFor(expected: ExpectedPrincipals, callers: readonly SimulatedCaller[], transports: readonly Transport[], actions?: readonly SimulatedAction[]): SimulatedRequest[] {
  const bucket = bucketArn(expected)
  // A key of the exporter's layout, so that prefix-scoped statements are tried on realistic keys.
  const object = `${bucket}/account_id=${expected.account}/region=us-east-1/year=2026/month=01/2026-01-01_prod.snappy.parquet`
  return callers.flatMap((who) =>
    (actions ?? who.actions).flatMap((a) => transports.map((transport) => ({who, action: a.action, resource: a.on === 'bucket' ? bucket : object, transport}))),
  )
}

export function toRequest(simulated: SimulatedRequest): Request {
  const {who, transport} = simulated
  const keys: Record<string, string> = {'aws:SecureTransport': String(transport.secure)}
  // A plain-HTTP request has no TLS version at all: the key is missing, not "0".
  if (transport.secure) keys['s3:TlsVersion'] = transport.tls
  if (who.caller.kind === 'aws') {
    keys['aws:PrincipalArn'] = who.caller.arn
    keys['aws:PrincipalAccount'] = who.caller.account
    keys['aws:PrincipalType'] = /:role\//.test(who.caller.arn) ? 'AssumedRole' : 'User'
    keys['aws:PrincipalIsAWSService'] = 'false'
    for (const [key, value] of Object.entries(who.tags)) keys[`aws:PrincipalTag/${key}`] = value
  } else if (who.caller.kind === 'anonymous') {
    keys['aws:PrincipalType'] = 'Anonymous'
    keys['aws:PrincipalIsAWSService'] = 'false'
  }

  return {caller: who.caller, action: simulated.action, resource: simulated.resource, keys, unmodelled: isUnmodelledKey}
}

export function describeTransport(transport: Transport): string {
  return transport.secure ? `TLS ${transport.tls}` : 'plain HTTP'
}

export function describeRequest(simulated: SimulatedRequest): string {
  const on = simulated.resource.includes('/') ? 'an object' : 'the bucket'
  return `${simulated.action} on ${on} over ${describeTransport(simulated.transport)} by ${simulated.who.label}`
}
