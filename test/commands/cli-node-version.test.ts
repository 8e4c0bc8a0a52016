/**
 * Start-up on a Node.js older than package.json's engines.node: a clear error naming both versions,
 * exit 1, rather than a SyntaxError from an import. Run with a real older Node.js (the machine's
 * own, outside node_modules), since which runtime starts the process is the point.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {accessSync, constants, readFileSync} from 'node:fs'
import {delimiter, dirname, join} from 'node:path'
import {describe, it} from 'node:test'

import {BIN, ROOT, runCli} from '../helpers.js'

const ENGINES = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {engines: {node: string}}).engines.node
const MINIMUM = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(ENGINES)?.slice(1).map(Number) ?? []

function older(version: string): boolean {
  const found = version.replace(/^v/, '').split('.').map(Number)
  for (let i = 0; i < 3; i++) if (found[i] !== MINIMUM[i]) return (found[i] ?? 0) < (MINIMUM[i] ?? 0)
  return false
}

/** A Node.js on this machine's PATH (never the project's pinned one) older than engines.node, with its version. */
function olderNode(): {path: string; version: string} | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(d => d !== '' && !d.includes('node_modules'))
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const path = join(dir, 'node')
    try {
      accessSync(path, constants.X_OK)
      const version = execFileSync(path, ['--version'], {encoding: 'utf8'}).trim()
      if (older(version)) return {path, version: version.replace(/^v/, '')}
    } catch {
      // not there, or not runnable
    }
  }

  return undefined
}

describe('start-up on an older Node.js', () => {
  const node = olderNode()
  const skip = node ? false : `no Node.js older than ${ENGINES} on this machine`

  it('engines.node is an exact minimum, the version whose node:zlib has createZstdDecompress', () => {
    assert.deepEqual(MINIMUM, [22, 15, 0])
  })

  it('names the found and the needed version and how to get one, exit 1, no stack', {skip}, async () => {
    const result = await runCli(['export', '--output-dir', '/tmp/x'], {}, [node!.path, BIN])
    assert.equal(result.code, 1, result.stderr)
    assert.equal(
      result.stderr.split('\n')[0],
      `Error: kubecost-cid needs Node.js 22.15.0 or later; this is Node.js ${node!.version} (${node!.path})`,
    )
    assert.match(result.stderr, /^Try: Install Node\.js 24 LTS .*npm run -s cli --/m)
    assert.doesNotMatch(result.stderr, /SyntaxError|\n\s+at /)
    assert.equal(result.stdout, '')
  })

  it('through the shebang too: its V8 flags do not fail before the check', {skip}, async () => {
    const result = await runCli(['--version'], {PATH: `${dirname(node!.path)}${delimiter}/usr/bin${delimiter}/bin`}, [
      BIN,
    ])
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      new RegExp(
        `^Error: kubecost-cid needs Node\\.js 22\\.15\\.0 or later; this is Node\\.js ${node!.version.replaceAll('.', '\\.')} `,
      ),
    )
  })

  it('in the JSON shapes under --json and --log-format json', {skip}, async () => {
    const result = await runCli(['export', '--json', '--log-format', 'json'], {}, [node!.path, BIN])
    assert.equal(result.code, 1, result.stderr)
    const {error} = JSON.parse(result.stdout) as {error: {code: string; exitCode: number; suggestions: string[]}}
    assert.deepEqual([error.code, error.exitCode, Array.isArray(error.suggestions)], ['NODE_VERSION', 1, true])
    const line = JSON.parse(result.stderr) as {level: string; code: string; message: string; suggestions: string[]}
    assert.deepEqual([line.level, line.code, Array.isArray(line.suggestions)], ['ERROR', 'NODE_VERSION', true])
    assert.match(line.message, /needs Node\.js 22\.15\.0 or later/)
  })
})
