/**
 * The Node.js version check that bin/run.js makes before it imports the CLI. On an older Node.js
 * those imports fail first, with a SyntaxError about a missing export (node:zlib's
 * createZstdDecompress, new in 22.15) that says nothing of the version. The minimum is package.json's
 * `engines.node`, so it is written down once. Plain JavaScript importing node:fs alone, so that it
 * loads on any Node.js that runs ES modules at all.
 */
import {readFileSync} from 'node:fs'
import {URL} from 'node:url'

/** `[major, minor, patch]` of "22.15.0" or ">=22.15.0". */
function parts(version) {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (!match) throw new Error(`Not a version: ${version}`)
  return match.slice(1, 4).map(Number)
}

function older(found, needed) {
  for (let i = 0; i < 3; i++) if (found[i] !== needed[i]) return found[i] < needed[i]
  return false
}

/** Under --log-format json / LOG_FORMAT=json the error is a log line too, like every error. */
function jsonLogs(argv, env) {
  const index = argv.findIndex(a => a === '--log-format' || a.startsWith('--log-format='))
  const value = index === -1 ? env.LOG_FORMAT : argv[index].includes('=') ? argv[index].split('=')[1] : argv[index + 1]
  return value?.trim().toLowerCase() === 'json'
}

/** Ends the process (exit 1) with the error in every form the command line asked for, unless this Node.js is new enough. */
export function requireSupportedNode() {
  const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node
  const needed = parts(engines)
  if (!older(parts(process.versions.node), needed)) return
  const error = {
    code: 'NODE_VERSION',
    message: `kubecost-cid needs Node.js ${needed.join('.')} or later; this is Node.js ${process.versions.node} (${process.execPath})`,
    exitCode: 1,
    suggestions: [
      'Install Node.js 24 LTS (nodejs.org, or your package manager or version manager), or run kubecost-cid from its clone with "npm run -s cli --", which uses the Node.js 24 the project installs in node_modules.',
    ],
  }
  const argv = process.argv.slice(2)
  const json = argv.includes('--json')
  if (json) process.stdout.write(`${JSON.stringify({error}, undefined, 2)}\n`)
  if (jsonLogs(argv, process.env)) {
    const {message, ...fields} = error
    const line = {time: new Date().toISOString(), level: 'ERROR', logger: 'kubecost-s3-exporter', message, ...fields}
    process.stderr.write(`${JSON.stringify(line)}\n`)
  } else if (!json) {
    process.stderr.write(`Error: ${error.message}\n${error.suggestions.map(s => `Try: ${s}\n`).join('')}`)
  }

  process.exit(error.exitCode)
}
