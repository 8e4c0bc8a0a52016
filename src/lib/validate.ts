import {InvalidInputError} from './errors.js'
import {type KeyKind, MAX_COLUMN_NAME_LENGTH, keyColumnName} from './schema.js'

/**
 * Validation of user input, each throwing InvalidInputError naming the flag, its env var and the value.
 * Shared by the flag definitions and by anything that reads the same values from elsewhere.
 */

export interface InputName {
  flag: string
  env?: string
}

const LABEL_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/
const DNS_SUBDOMAIN_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/** A Kubernetes label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 chars. */
export function isKubernetesKey(key: string): boolean {
  const slash = key.lastIndexOf('/')
  const prefix = slash === -1 ? undefined : key.slice(0, slash)
  const name = slash === -1 ? key : key.slice(slash + 1)
  if (!LABEL_NAME_RE.test(name)) return false
  return prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN_RE.test(prefix))
}

/** The items of a comma-separated list, trimmed, empty ones dropped (`a, b,` is `a`, `b`). */
export function splitList(input: string): string[] {
  return input
    .split(',')
    .map(item => item.trim())
    .filter(item => item !== '')
}

/**
 * Comma-separated Kubernetes label or annotation keys, e.g. `app, app.kubernetes.io/name`; a single
 * key is valid. Each becomes a column (`properties.<kind>.<key>`), so two keys that differ only in
 * case are refused as well as one listed twice: Glue stores column names lower-case and Athena
 * matches them case-insensitively, so the two columns could not be told apart.
 */
export function parseKeyList(input: string, name: InputName, kind: KeyKind): string[] {
  const keys = splitList(input)
  const seen = new Map<string, string>()
  const invalid = (problem: string, suggestions: string[]) =>
    new InvalidInputError(name.flag, name.env, input, problem, {suggestions})
  for (const key of keys) {
    if (!isKubernetesKey(key)) {
      throw invalid(`"${key}" is not a Kubernetes key`, [
        'Give comma-separated keys as written on the objects, e.g. "app, app.kubernetes.io/name, team".',
      ])
    }

    const column = keyColumnName(kind, key)
    if (column.length > MAX_COLUMN_NAME_LENGTH) {
      throw invalid(
        `"${key}" is ${key.length} characters long: the column ${keyColumnName(kind, '<key>')} would have ${column.length}, over the ${MAX_COLUMN_NAME_LENGTH} characters Glue allows a column name`,
        [
          `Keys of at most ${MAX_COLUMN_NAME_LENGTH - keyColumnName(kind, '').length} characters fit; export a shorter key that carries the same value.`,
        ],
      )
    }

    const earlier = seen.get(key.toLowerCase())
    if (earlier === key) throw invalid(`"${key}" is listed twice`, [])
    if (earlier !== undefined) {
      throw invalid(
        `"${earlier}" and "${key}" differ only in case: Athena matches column names case-insensitively (Glue stores them lower-case), so ${keyColumnName(kind, earlier)} and ${column} would be one column`,
        [`Keep one of "${earlier}" and "${key}".`],
      )
    }

    seen.set(key.toLowerCase(), key)
  }

  return keys
}

export function parsePositiveInteger(input: string, name: InputName): number {
  const value = Number(input.trim())
  if (!/^\s*\d+\s*$/.test(input) || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidInputError(name.flag, name.env, input, 'must be a whole number greater than 0')
  }

  return value
}

/** A whole number from `min` to `max`, e.g. `--retries` (0 is "no retries") or `--backfill-days` (at most 400). */
export function parseWholeNumber(input: string, name: InputName, bounds: {min: number; max: number}): number {
  const value = Number(input.trim())
  if (!/^\s*\d+\s*$/.test(input) || !Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new InvalidInputError(
      name.flag,
      name.env,
      input,
      `must be a whole number from ${bounds.min} to ${bounds.max}`,
    )
  }

  return value
}

/** Seconds, possibly fractional (`10`, `2.5`), returned in milliseconds. */
export function parseSeconds(input: string, name: InputName): number {
  const trimmed = input.trim().replace(/\s*s$/, '')
  const value = Number(trimmed)
  // Plain decimals only (no hex, no exponents), and at least a millisecond: 0 would mean "no timeout".
  if (!/^\d+(?:\.\d+)?$/.test(trimmed) || Math.round(value * 1000) < 1) {
    throw new InvalidInputError(name.flag, name.env, input, 'must be a number of seconds greater than 0', {
      suggestions: ['For example 10 or 2.5.'],
    })
  }

  return Math.round(value * 1000)
}

/**
 * The text with whatever stands before an `@` in it (a URL's user and password) replaced by `***`,
 * whether or not the text is a valid URL: a mistyped URL's token must not reach a log either.
 */
export function redactCredentials(text: string): string {
  return text.replace(/[^/@\s]*@/, '***@')
}

/**
 * Something written as `host[:port][/path]` without a scheme: a name, an IPv4 address or an IPv6
 * address in brackets, with optional credentials before it and no `//` anywhere. `localhost:19090`
 * is a valid URL whose scheme is "localhost", and `127.0.0.1:19090` no URL at all; both mean http://.
 */
const SCHEMELESS_URL =
  /^(?!.*\/\/)(?:[^\s/@]*@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?(?:[/?#][^\s@]*)?$/
const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//

/**
 * An http or https URL. `example` is what a right value looks like for this setting, e.g.
 * "http://127.0.0.1:9000 (MinIO)": the message for a wrong one shows it.
 */
export function parseHttpUrl(input: string, name: InputName, example: string): string {
  const trimmed = input.trim()
  const shown = redactCredentials(input)
  if (!HAS_SCHEME.test(trimmed) && SCHEMELESS_URL.test(trimmed) && URL.canParse(`http://${trimmed}`)) {
    const fixed = redactCredentials(trimmed)
    throw new InvalidInputError(name.flag, name.env, shown, 'it has no scheme; add http://', {
      suggestions: [`Use http://${fixed} (or https://${fixed} if the port speaks TLS).`],
    })
  }

  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    throw new InvalidInputError(name.flag, name.env, shown, 'not a URL', {
      suggestions: [`Give a full URL such as ${example}.`],
    })
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError(
      name.flag,
      name.env,
      shown,
      `scheme "${url.protocol.replace(/:$/, '')}" is not supported; use http or https`,
      {suggestions: [`Give a full URL such as ${example}.`]},
    )
  }

  return trimmed
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const BUCKET_RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-']
const BUCKET_RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']

/** The S3 general purpose bucket naming rules. */
export function parseBucketName(input: string, name: InputName): string {
  const bucket = input.trim()
  const problem = !BUCKET_RE.test(bucket)
    ? 'bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit'
    : bucket.includes('..')
      ? 'bucket names cannot contain two adjacent dots'
      : /^\d+\.\d+\.\d+\.\d+$/.test(bucket)
        ? 'bucket names cannot be formatted as an IP address'
        : BUCKET_RESERVED_PREFIXES.some(p => bucket.startsWith(p)) ||
            BUCKET_RESERVED_SUFFIXES.some(s => bucket.endsWith(s))
          ? 'the name uses a prefix or suffix that S3 reserves'
          : undefined
  if (problem) {
    throw new InvalidInputError(name.flag, name.env, input, problem, {
      suggestions: ['Give the bucket name only (no s3:// and no key), e.g. kubecost-data-111122223333.'],
    })
  }

  return bucket
}

export function parseChoice<T extends string>(input: string, choices: readonly T[], name: InputName): T {
  const value = input.trim()
  const match = choices.find(c => c === value) ?? choices.find(c => c.toLowerCase() === value.toLowerCase())
  if (!match) throw new InvalidInputError(name.flag, name.env, input, `must be one of: ${choices.join(', ')}`)
  return match
}

const TRUE_WORDS = ['true', 'yes', 'y', '1']
const FALSE_WORDS = ['false', 'no', 'n', '0']

/** Booleans from the environment: true/false/yes/no/y/n/1/0, any case. */
export function parseBoolean(input: string, name: InputName): boolean {
  const value = input.trim().toLowerCase()
  if (TRUE_WORDS.includes(value)) return true
  if (FALSE_WORDS.includes(value)) return false
  throw new InvalidInputError(name.flag, name.env, input, 'must be true or false (also yes/no, y/n, 1/0)')
}

const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/

export function parseRoleArn(input: string, name: InputName): string {
  const arn = input.trim()
  if (!ROLE_ARN_RE.test(arn)) {
    throw new InvalidInputError(name.flag, name.env, input, 'not an IAM role ARN', {
      suggestions: ['Use the form arn:aws:iam::<12-digit account>:role/<name>.'],
    })
  }

  return arn
}

const REGION_RE = /^[a-z]{2}(?:-[a-z]+)+-\d+$/

export function parseRegion(input: string, name: InputName): string {
  const region = input.trim()
  if (!REGION_RE.test(region))
    throw new InvalidInputError(name.flag, name.env, input, 'not an AWS region name such as us-east-1')
  return region
}
