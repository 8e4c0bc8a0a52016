/** The local destination; an output directory under /proc failing fast is a spawned export's test (export.test.ts). */
import assert from 'node:assert/strict'
import {mkdir, readFile, readdir, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {LocalDestination} from '../../src/lib/destination/local.js'
import {LocalIoError} from '../../src/lib/errors.js'
import {makeDirectories} from '../../src/lib/local-io.js'
import {listFiles, tempDir} from '../helpers.js'
import {named} from '../settings.js'

const KEY = 'kubecost/account_id=111122223333/region=us-east-1/year=2026/month=03/2026-03-02_prod.snappy.parquet'

describe('LocalDestination', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let file: string
  before(async () => {
    dir = await tempDir()
    file = join(dir.path, 'day.parquet')
    await writeFile(file, 'PAR1')
  })
  after(() => dir.remove())

  it('creates the missing directories and writes the file at its key', async () => {
    const root = join(dir.path, 'plain', 'out')
    await new LocalDestination(root).put(KEY, file)
    assert.deepEqual(await listFiles(root), [KEY])
    assert.equal(await readFile(join(root, ...KEY.split('/')), 'utf8'), 'PAR1')
  })

  for (const link of ['kubecost', 'kubecost/account_id=111122223333/region=us-east-1/year=2026']) {
    it(`refuses a symbolic link to a directory outside it (${link}), naming the link`, async () => {
      const root = join(dir.path, `linked-${link.length}`)
      const outside = join(dir.path, `outside-${link.length}`)
      await mkdir(outside, {recursive: true})
      await mkdir(join(root, link, '..'), {recursive: true})
      await symlink(outside, join(root, link))
      await assert.rejects(new LocalDestination(root).put(KEY, file), (error: unknown) => {
        assert.ok(error instanceof LocalIoError)
        assert.deepEqual([error.code, error.exitCode], ['LOCAL_IO', 1])
        assert.equal(
          named(error.message),
          `Could not write ${join(root, ...KEY.split('/'))}: ${join(root, link)} is a symbolic link, and files are written only inside --output-dir (OUTPUT_DIR) ${root}`,
        )
        return true
      })
      assert.deepEqual(await readdir(outside, {recursive: true}), [])
    })
  }

  it('writes into an output directory that is itself a link: that one the operator chose', async () => {
    const real = join(dir.path, 'real-out')
    await mkdir(real)
    const root = join(dir.path, 'link-out')
    await symlink(real, root)
    await new LocalDestination(root).put(KEY, file)
    assert.deepEqual(await listFiles(real), [KEY])
  })

  it('lists no key behind a link inside it', async () => {
    const root = join(dir.path, 'listed')
    const outside = join(dir.path, 'listed-outside', 'region=us-east-1', 'year=2026', 'month=03')
    await mkdir(outside, {recursive: true})
    await writeFile(join(outside, '2026-03-02_prod.snappy.parquet'), 'PAR1')
    await mkdir(join(root, 'kubecost'), {recursive: true})
    await symlink(join(dir.path, 'listed-outside'), join(root, 'kubecost', 'account_id=111122223333'))
    assert.deepEqual(await new LocalDestination(root).listKeys('kubecost/'), [])
  })
})

describe('makeDirectories', () => {
  it('makes every missing level and accepts what exists', async () => {
    const dir = await tempDir()
    try {
      await makeDirectories(join(dir.path, 'a', 'b', 'c'))
      await makeDirectories(join(dir.path, 'a', 'b', 'c'))
      assert.deepEqual(await readdir(join(dir.path, 'a', 'b')), ['c'])
    } finally {
      await dir.remove()
    }
  })

  it('rejects with ENOTDIR under a file', async () => {
    const dir = await tempDir()
    try {
      await writeFile(join(dir.path, 'file'), 'x')
      await assert.rejects(makeDirectories(join(dir.path, 'file', 'a')), {code: 'ENOTDIR'})
    } finally {
      await dir.remove()
    }
  })
})
