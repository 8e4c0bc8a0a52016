/**
 * Library code names settings by id (src/lib/settings.ts); only the command layer knows what the
 * command line and the environment call them. These tests keep it so: every id is some command's
 * flag, tokens render as users have always read them, and no string in src/lib names a flag or a
 * flag's environment variable.
 */
import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, it} from 'node:test'

import ts from 'typescript'

import {SETTINGS, envVar, flag, negated, renderSettings, renderSettingsDeep, setting} from '../../src/lib/settings.js'
import {settingLookup} from '../../src/settings.js'
import {ROOT} from '../helpers.js'
import {COMMANDS, named} from '../settings.js'

const allFlags = Object.values(COMMANDS).flatMap(c =>
  Object.entries(c.flags as Record<string, {env?: string; hidden?: boolean}>),
)
const FLAG_NAMES = new Set(allFlags.map(([name]) => name))
const ENV_NAMES = new Set(allFlags.flatMap(([, f]) => (f.env ? [f.env] : [])))

/** The text of every string literal and template part in a TypeScript source, with its line. */
function literals(source: string, file = 'x.ts'): Array<{text: string; line: number}> {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true)
  const found: Array<{text: string; line: number}> = []
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateLiteralToken(node)) {
      found.push({text: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1})
    }

    ts.forEachChild(node, visit)
  }

  visit(sf)
  return found
}

/** What in `text` names one of this CLI's flags or (in prose) their environment variables. */
function namedSettings(text: string): string[] {
  // An AWS CLI command line (`aws s3api put-bucket-policy --bucket ...`) uses the AWS CLI's flags.
  const prose = text.replace(/\baws [a-z0-9]+ [a-z0-9-]+(?: +(?:--[a-z0-9-]+|[^\s-][^\s]*))*/g, '')
  const flags = [...prose.matchAll(/(?<![\w-])--(?:no-)?([a-z0-9][a-z0-9-]*)/g)]
    .filter(m => FLAG_NAMES.has(m[1] ?? ''))
    .map(m => m[0])
  // A lone word is a code or a key (RUN_DEADLINE is an error code too); in a sentence it is a name.
  const envs = /\s/.test(prose)
    ? [...prose.matchAll(/\b[A-Z][A-Z0-9_]{3,}\b/g)].map(m => m[0]).filter(e => ENV_NAMES.has(e))
    : []
  return [...flags, ...envs]
}

function sources(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter(e => e.isFile() && e.name.endsWith('.ts'))
    .map(e => join(e.parentPath, e.name))
}

describe('settings named by id in library code', () => {
  it('renders each form from the flag definitions', () => {
    const lookup = settingLookup([
      {'allocation-read-timeout': {env: 'KUBECOST_ALLOCATION_API_READ_TIMEOUT'}, force: {}},
    ])
    assert.equal(
      renderSettings(`raise ${setting('allocationReadTimeout')}`, lookup),
      'raise --allocation-read-timeout (KUBECOST_ALLOCATION_API_READ_TIMEOUT)',
    )
    assert.equal(
      renderSettings(`${flag('allocationReadTimeout')} or ${envVar('allocationReadTimeout')}`, lookup),
      '--allocation-read-timeout or KUBECOST_ALLOCATION_API_READ_TIMEOUT',
    )
    assert.equal(renderSettings(`${setting('force')}, ${envVar('force')}`, lookup), '--force, --force')
    assert.equal(renderSettings(negated('tlsVerify'), lookup), '--no-tls-verify')
    assert.deepEqual(renderSettingsDeep({a: [flag('force')], n: 1, d: undefined}, lookup), {
      a: ['--force'],
      n: 1,
      d: undefined,
    })
  })

  it("prefers the running command's flag, then any other command's", () => {
    assert.equal(named(setting('region'), 'refresh-dataset'), '--region (QUICKSIGHT_REGION)')
    assert.equal(named(setting('region'), 'crawl'), '--region (GLUE_REGION)')
    assert.equal(named(setting('crawlerRoleArn'), 'crawl'), '--crawler-role-arn (CRAWLER_ROLE_ARN)')
  })

  it('every setting id is a flag of some command', () => {
    const lookup = settingLookup(Object.values(COMMANDS).map(c => c.flags))
    for (const id of SETTINGS) assert.ok(lookup(id), `no command has a flag for setting ${id}`)
  })

  it('finds a flag or an environment variable named in a string, and leaves AWS CLI commands alone', () => {
    const sample = [
      "const a = 'raise --max-rows-per-day (MAX_ROWS_PER_DAY)'",
      'const b = `pass --no-tls-verify for ${x}`',
      "const c = 'aws s3api put-bucket-policy --bucket my-bucket --policy file://p.json'",
      "const d = 'RUN_DEADLINE'",
      "const e = 'the --x-unknown flag'",
    ].join('\n')
    const hits = literals(sample).map(l => namedSettings(l.text))
    // The template's two parts are two literals: its head names the flag, its tail nothing.
    assert.deepEqual(hits, [['--max-rows-per-day', 'MAX_ROWS_PER_DAY'], ['--no-tls-verify'], [], [], [], []])
  })

  it('no string in src/lib names a flag or its environment variable', () => {
    const offences: string[] = []
    for (const file of sources(join(ROOT, 'src', 'lib'))) {
      for (const {text, line} of literals(readFileSync(file, 'utf8'), file)) {
        const hits = namedSettings(text)
        if (hits.length > 0) offences.push(`${relative(ROOT, file)}:${line}: ${hits.join(', ')}`)
      }
    }

    assert.deepEqual(offences, [], 'name settings with setting()/flag()/envVar() from src/lib/settings.ts instead')
  })
})
