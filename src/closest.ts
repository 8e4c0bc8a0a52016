/** Edit distance, for "did you mean": commands and flags are few and short. */
export function distance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    }

    previous = current
  }

  return previous[b.length] ?? 0
}

/**
 * The candidate `word` was most likely meant to be: one it is a prefix of (or that is a prefix of
 * it), else the nearest within a few edits; undefined when nothing is near enough to be a fair guess.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const [best] = candidates
    .map(candidate => {
      const edits = distance(word, candidate)
      return {candidate, edits, score: candidate.startsWith(word) || word.startsWith(candidate) ? 0 : edits}
    })
    .sort((a, b) => a.score - b.score || a.edits - b.edits)
  return best && best.score <= Math.max(2, Math.floor(word.length / 3)) ? best.candidate : undefined
}
