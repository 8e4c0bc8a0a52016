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

/**
 * `*` is any run of characters (also `/` and `:`), `?` exactly one; everything else literal.
 * Greedy two-pointer matching that remembers only the last `*`: at most |pattern|·|value| steps, so a
 * hostile pattern such as `…/****Z` cannot make it backtrack exponentially the way a regex would.
 */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const v = ignoreCase ? value.toLowerCase() : value
  let pi = 0
  let vi = 0
  let star = -1
  let resume = 0
  while (vi < v.length) {
    const c = p.charAt(pi)
    if (pi < p.length && c === '*') {
      star = pi++
      resume = vi
    } else if (pi < p.length && (c === '?' || c === v.charAt(vi))) {
      pi++
      vi++
    } else if (star >= 0) {
      pi = star + 1
      vi = ++resume
    } else {
      return false
    }
  }

  while (p.charAt(pi) === '*') pi++
  return pi === p.length
}

/** The pattern positions a match can be at after reading `text` (an NFA walk: |pattern|·|text| steps). */
function statesAfter(pattern: string, text: string): Set<number> {
  const close = (states: Set<number>) => {
    for (const i of [...states]) {
      let j = i
      while (pattern.charAt(j) === '*' && !states.has(j + 1)) states.add(++j)
    }

    return states
  }

  let states = close(new Set([0]))
  for (let k = 0; k < text.length; k++) {
    const c = text.charAt(k)
    const next = new Set<number>()
    for (const i of states) {
      const p = pattern.charAt(i)
      if (i >= pattern.length) continue
      if (p === '*') next.add(i)
      else if (p === '?' || p === c) next.add(i + 1)
    }

    states = close(next)
    if (states.size === 0) break
  }

  return states
}

/**
 * Whether `pattern` matches every string that starts with `prefix` — all S3 actions (`s3:`), every
 * key under a prefix — decided on the pattern itself rather than on samples. Exact for patterns whose
 * tail after the prefix is a run of `*`; otherwise (e.g. `?*` tails) it answers no, which errs on the
 * side of reporting a gap.
 */
export function coversAllWithPrefix(pattern: string, prefix: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const x = ignoreCase ? prefix.toLowerCase() : prefix
  // The first position from which the rest of the pattern is only `*`.
  let starsFrom = p.length
  while (starsFrom > 0 && p.charAt(starsFrom - 1) === '*') starsFrom--
  for (const i of statesAfter(p, x)) if (i < p.length && i >= starsFrom) return true
  return false
}

/** Whether `pattern` matches at least one string that starts with `prefix`. */
export function matchesSomeWithPrefix(pattern: string, prefix: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const x = ignoreCase ? prefix.toLowerCase() : prefix
  return statesAfter(p, x).size > 0
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
