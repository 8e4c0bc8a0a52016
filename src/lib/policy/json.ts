/**
 * A strict JSON reader that says where a document is wrong (line, column, path). JSON.parse only
 * sometimes gives a position, and it silently keeps the last of two equal keys: in a policy that
 * drops a whole condition block ("StringNotEquals" written twice), so duplicates are an error here.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject
export interface JsonObject {
  [key: string]: JsonValue
}

export class JsonReadError extends Error {
  constructor(
    readonly problem: string,
    readonly line: number,
    readonly column: number,
    readonly path: string,
    /** A key written twice: valid JSON to some readers, but one of the two values is lost. */
    readonly duplicateKey = false,
  ) {
    super(`line ${line}, column ${column}${path === '' ? '' : ` (${path})`}: ${problem}`)
    this.name = 'JsonReadError'
  }
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const ESCAPES: Record<string, string> = {'"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Far deeper than any policy (about seven levels), far shallower than the call stack. */
export const MAX_DEPTH = 64

export function parseJson(text: string): JsonValue {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text
  let pos = 0

  const fail = (problem: string, at: number, path: string, duplicateKey = false): never => {
    const before = source.slice(0, at)
    const line = before.split('\n').length
    const column = at - before.lastIndexOf('\n')
    throw new JsonReadError(problem, line, column, path, duplicateKey)
  }

  const skipSpace = () => {
    while (pos < source.length && ' \t\n\r'.includes(source.charAt(pos))) pos++
  }

  const describeHere = () => (pos >= source.length ? 'end of input' : `"${source.charAt(pos)}"`)

  const readString = (path: string): string => {
    const start = pos
    pos++ // opening quote
    let out = ''
    for (;;) {
      if (pos >= source.length) return fail('unterminated string', start, path)
      const char = source.charAt(pos)
      if (char === '"') {
        pos++
        return out
      }

      if (char.charCodeAt(0) < 0x20)
        return fail('control character in a string (write it as an escape such as \\n)', pos, path)
      if (char === '\\') {
        const next = source.charAt(pos + 1)
        if (next === 'u') {
          const hex = source.slice(pos + 2, pos + 6)
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail('bad \\u escape', pos, path)
          out += String.fromCharCode(parseInt(hex, 16))
          pos += 6
          continue
        }

        const escaped = ESCAPES[next]
        if (escaped === undefined) return fail(`bad escape "\\${next}"`, pos, path)
        out += escaped
        pos += 2
        continue
      }

      out += char
      pos++
    }
  }

  const readValue = (path: string, depth: number): JsonValue => {
    skipSpace()
    const char = source.charAt(pos)
    if ((char === '{' || char === '[') && depth >= MAX_DEPTH)
      return fail(`nested more than ${MAX_DEPTH} levels deep; a bucket policy needs about seven`, pos, path)
    if (char === '{') return readObject(path, depth + 1)
    if (char === '[') return readArray(path, depth + 1)
    if (char === '"') return readString(path)
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (source.startsWith(word, pos)) {
        pos += word.length
        return value
      }
    }

    NUMBER_RE.lastIndex = pos
    const match = NUMBER_RE.exec(source)
    if (match) {
      pos += match[0].length
      return Number(match[0])
    }

    return fail(`expected a value, found ${describeHere()}`, pos, path)
  }

  const readObject = (path: string, depth: number): JsonObject => {
    pos++
    const object: JsonObject = {}
    skipSpace()
    if (source.charAt(pos) === '}') {
      pos++
      return object
    }

    for (;;) {
      skipSpace()
      if (source.charAt(pos) !== '"')
        return fail(`expected a double-quoted property name, found ${describeHere()}`, pos, path)
      const keyAt = pos
      const key = readString(path)
      const childPath = path === '' ? key : `${path}.${key}`
      if (Object.hasOwn(object, key)) {
        return fail(
          `"${key}" appears twice in the same object; JSON keeps only the last one, so the first is silently lost: merge them`,
          keyAt,
          path,
          true,
        )
      }

      skipSpace()
      if (source.charAt(pos) !== ':') return fail(`expected ":" after "${key}", found ${describeHere()}`, pos, path)
      pos++
      // defineProperty, so that a key such as "__proto__" is data, not the prototype
      Object.defineProperty(object, key, {
        value: readValue(childPath, depth),
        enumerable: true,
        writable: true,
        configurable: true,
      })
      skipSpace()
      const next = source.charAt(pos)
      pos++
      if (next === '}') return object
      if (next !== ',')
        return fail(
          `expected "," or "}" after the value of "${key}", found ${pos > source.length ? 'end of input' : `"${next}"`}`,
          pos - 1,
          path,
        )
    }
  }

  const readArray = (path: string, depth: number): JsonValue[] => {
    pos++
    const array: JsonValue[] = []
    skipSpace()
    if (source.charAt(pos) === ']') {
      pos++
      return array
    }

    for (;;) {
      array.push(readValue(`${path}[${array.length}]`, depth))
      skipSpace()
      const next = source.charAt(pos)
      pos++
      if (next === ']') return array
      if (next !== ',')
        return fail(
          `expected "," or "]" in the list, found ${pos > source.length ? 'end of input' : `"${next}"`}`,
          pos - 1,
          path,
        )
    }
  }

  const value = readValue('', 0)
  skipSpace()
  if (pos < source.length) fail(`unexpected ${describeHere()} after the end of the document`, pos, '')
  return value
}
