/**
 * Text that came from outside (a Kubecost body, a reason phrase, a header) is shown to people
 * through log lines and terminals. Raw control characters there can forge log lines (a newline),
 * rewrite the terminal (ESC sequences), ring it (BEL), or break lines in viewers that honour NEL
 * and the Unicode line separators; escaping them keeps the text readable and inert.
 */

const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

// C0, DEL, C1 (NEL is U+0085), and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/** `text` with every control character spelled as an escape: `\n`, `\x1b`, `\u0085`. */
export function escapeControl(text: string): string {
  return text.replaceAll(CONTROL, char => {
    const named = NAMED[char]
    if (named) return named
    const code = char.codePointAt(0) ?? 0
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

// What JSON.stringify leaves raw that a terminal or log viewer may act on: DEL, C1, the Unicode separators.
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/g

/**
 * JSON text with DEL, the C1 controls and the Unicode line and paragraph separators written as
 * `\u` escapes: the same JSON to any parser, inert on a terminal. JSON.stringify already escapes C0.
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_UNSAFE, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * A short, single-line, escaped excerpt of outside text for a message: whitespace runs become one
 * space, the result is capped at `max` characters (marked with …), and control characters are escaped.
 */
export function excerpt(text: string, max = 200): string {
  const oneLine = text.replaceAll(/\s+/g, ' ').trim()
  let cut = max
  // never split a surrogate pair: half a character would render as garbage
  if (oneLine.length > max && /[\ud800-\udbff]/.test(oneLine.charAt(max - 1))) cut--
  const capped = oneLine.length > max ? `${oneLine.slice(0, cut)}…` : oneLine
  return escapeControl(capped)
}

/**
 * `text` whole when it has at most `max` characters, else its first `max` characters, an ellipsis
 * and its length: `http://kubecost:9090/model/allocation?window=…&filter=cluster%3A%22a… (9,214
 * characters)`. For long URLs and ids in messages, which a log would otherwise repeat whole line
 * after line. Escaping is left to the caller.
 */
export function abbreviate(text: string, max = 200): string {
  if (text.length <= max) return text
  // never split a surrogate pair: half a character would render as garbage
  const cut = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max
  return `${text.slice(0, cut)}… (${text.length.toLocaleString('en-US')} characters)`
}
