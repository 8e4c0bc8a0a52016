/** Three-valued logic and the wildcard matching IAM uses for actions, resources and ARNs. */

/** `unknown` when the analyzer cannot decide (an operator it does not know, a key it does not simulate). */
export type Tri = boolean | 'unknown'

export function and(values: readonly Tri[]): Tri {
  if (values.includes(false)) return false
  return values.includes('unknown') ? 'unknown' : true
}

export function or(values: readonly Tri[]): Tri {
  if (values.includes(true)) return true
  return values.includes('unknown') ? 'unknown' : false
}

const cache = new Map<string, RegExp>()

/** `*` is any run of characters (also `/` and `:`), `?` exactly one; everything else literal. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`
  let re = cache.get(cacheKey)
  if (!re) {
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('')
    re = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's')
    cache.set(cacheKey, re)
  }

  return re.test(value)
}

/** Action names are case-insensitive (`s3:getobject` is `s3:GetObject`). */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatches(pattern, action, true)
}

function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':')
  if (parts.length < 6 || parts[0] !== 'arn') return undefined
  return [...parts.slice(0, 5), parts.slice(5).join(':')]
}

/**
 * ArnEquals / ArnLike: the six colon-separated parts are matched one by one, so a wildcard never
 * spans a colon in the first five; a value that is not an ARN does not match.
 */
export function arnMatches(pattern: string, value: string): boolean {
  const p = arnParts(pattern)
  const v = arnParts(value)
  if (!v) return false
  if (!p) return globMatches(pattern, value)
  return p.every((part, i) => globMatches(part, v[i] ?? ''))
}
