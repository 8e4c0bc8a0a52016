/** The README's command reference is what `oclif readme` generates from the commands: it cannot go stale. */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {it} from 'node:test'
import {promisify} from 'node:util'

import {ROOT} from './helpers.js'

const section = (text: string) => {
  const start = text.indexOf('\n<!-- commands -->')
  const end = text.indexOf('<!-- commandsstop -->')
  assert.ok(start !== -1 && end > start, 'the commands markers are present')
  return text.slice(start, end)
}

it('the README command reference matches `npm run readme` (run it to update)', async () => {
  const oclif = join(ROOT, 'node_modules', '.bin', 'oclif')
  const {stdout} = await promisify(execFile)(oclif, ['readme', '--no-aliases', '--dry-run'], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  })
  assert.equal(section(await readFile(join(ROOT, 'README.md'), 'utf8')), section(stdout))
})
