/**
 * runGuarded: no command ends the process with Node's exit code 13 (an unsettled top-level await).
 * Each case runs in a process of its own, on the built code (npm run build), where the event loop
 * empties as it would in the CLI.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {cliEnv} from './helpers.js'

const FIXTURE = fileURLToPath(new URL('fixtures/run-guarded.mjs', import.meta.url))

async function guarded(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [FIXTURE, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code] = (await once(child, 'close')) as [number | null]
  return {code, stdout, stderr}
}

describe('runGuarded', () => {
  it('lets a command waiting on a handle that does not hold the process open finish', async () => {
    const unguarded = await guarded(['unheld', '--unguarded'])
    assert.equal(unguarded.code, 13, unguarded.stderr)
    const result = await guarded(['unheld'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, 'finished\n')
  })

  it('ends a command left waiting on nothing with exit code 1, and says what happened and what to do', async () => {
    const result = await guarded(['never'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^Error: The command stopped before it finished: .* \(a bug in kubecost-cid\)\.$/m)
    assert.match(result.stderr, /^Try: Run it again: .* report it with the output above\.$/m)
    assert.doesNotMatch(result.stderr, /top-level await/)
  })

  it('says it as a JSON log line under --log-format json or LOG_FORMAT=json, and as the error object under --json', async () => {
    for (const [args, env] of [
      [['--log-format', 'json'], {}],
      [[], {LOG_FORMAT: 'json'}],
    ] as const) {
      const result = await guarded(['never', ...args], env)
      assert.equal(result.code, 1)
      const line = JSON.parse(result.stderr.trim()) as Record<string, unknown>
      assert.equal(line.level, 'ERROR')
      assert.equal(line.code, 'UNFINISHED')
      assert.equal(line.exitCode, 1)
      assert.match(String(line.message), /^The command stopped before it finished/)
    }

    const json = await guarded(['never', '--json'])
    assert.equal(json.code, 1)
    const {error} = JSON.parse(json.stdout) as {error: {code: string; exitCode: number; suggestions: string[]}}
    assert.equal(error.code, 'UNFINISHED')
    assert.equal(error.exitCode, 1)
    assert.equal(error.suggestions.length, 1)
  })

  it("keeps a command's own exit code", async () => {
    const result = await guarded(['usage'])
    assert.equal(result.code, 2)
    assert.equal(result.stderr, '')
  })
})
