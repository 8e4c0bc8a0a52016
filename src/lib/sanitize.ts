/**
 * Text that came from outside (Kubecost bodies, error messages, reason phrases, names) is shown to
 * people and log pipelines; control characters in it could forge log lines or drive a terminal.
 */

// C0 controls except tab, DEL, the C1 controls (NEL U+0085 among them) and the Unicode line and
// paragraph separators, which some log collectors also break lines at.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g

/** The text with every control character written as an escape (`\n`, `\x1b`, `\u0085`), so it stays on one line and inert. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n'
    if (c === '\r') return '\\r'
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
