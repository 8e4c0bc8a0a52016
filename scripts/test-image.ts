/**
 * npm run test:image [-- --arch amd64|arm64|all] — builds the image with podman from the project's
 * Dockerfile, for each platform, and runs it as the CronJob does: uid 65532, read-only root, a tmpfs
 * /tmp, configured by env vars only, exporting from the project's fake Kubecost (on the host, reached
 * over --network host) into a mounted directory. Every ELF file in each image must be of its platform.
 *
 * No registry image can be pulled here, so the base is made locally: a Debian root file system of
 * the platform from mmdebstrap (with tini and a passwd entry for 65532) plus Node 24 (and npm) from
 * the npm registry's node-linux-<arch> package. On the host's platform the Dockerfile's own build
 * and deps stages run; the foreign platform's app is installed on the host for it and handed in as
 * APP_SOURCE, and its export runs under qemu-user. Storage lives in a temporary directory, so the
 * run leaves no images or containers behind.
 *
 * Needs (Debian): podman buildah runc fuse-overlayfs uidmap slirp4netns containernetworking-plugins
 * conmon catatonit mmdebstrap qemu-user-static — .ci/run installs them.
 */
import assert from 'node:assert/strict'
import {execFile, spawn} from 'node:child_process'
import {chmod, chown, cp, mkdir, mkdtemp, open, readFile, readdir, rm, stat, symlink, writeFile} from 'node:fs/promises'
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

/**
 * The extra CA the host trusts for the registry, if any: npm's `cafile`, else Node's
 * NODE_EXTRA_CA_CERTS. npm's global config follows the Node.js that runs it (under `npm run`, the
 * project's pinned one in node_modules), so a `cafile` set machine-wide can be invisible here.
 */
async function hostCaFile(): Promise<string | undefined> {
  const configured = (await must('npm', ['config', 'get', 'cafile'], {quiet: true})).trim()
  if (configured && configured !== 'null' && configured !== 'undefined') return configured
  return process.env.NODE_EXTRA_CA_CERTS || undefined
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

type Arch = 'amd64' | 'arm64'

/** Per platform: Debian's and npm's names for it, and the ELF e_machine its binaries carry. */
const PLATFORMS: Record<Arch, {deb: string; npm: string; elfMachine: number; elfName: string; qemu: string}> = {
  amd64: {deb: 'amd64', npm: 'x64', elfMachine: 62, elfName: 'x86-64', qemu: 'qemu-x86_64-static'},
  arm64: {deb: 'arm64', npm: 'arm64', elfMachine: 183, elfName: 'AArch64', qemu: 'qemu-aarch64-static'},
}
const HOST_ARCH: Arch = process.arch === 'arm64' ? 'arm64' : 'amd64'

/** `--arch amd64|arm64|all` (default all): which images to build and check. */
function archesFromArgs(argv: string[]): Arch[] {
  const i = argv.indexOf('--arch')
  const value = i === -1 ? 'all' : argv[i + 1]
  if (value === 'all') return [HOST_ARCH, HOST_ARCH === 'amd64' ? 'arm64' : 'amd64']
  if (value === 'amd64' || value === 'arm64') return [value]
  throw new Error(`--arch must be amd64, arm64 or all, not ${String(value)}`)
}

/** ELF e_machine of a file, or undefined when it is not an ELF file. */
async function elfMachine(path: string): Promise<number | undefined> {
  const handle = await open(path, 'r')
  try {
    const header = Buffer.alloc(20)
    const {bytesRead} = await handle.read(header, 0, 20, 0)
    if (bytesRead < 20 || header.readUInt32BE(0) !== 0x7f_45_4c_46) return undefined
    // EI_DATA (byte 5): 1 little-endian, 2 big-endian; e_machine is the 16-bit field at offset 18.
    return header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18)
  } finally {
    await handle.close()
  }
}

interface Podman {
  (args: string[], quiet?: boolean): Promise<string>
  run(args: string[]): Promise<Run>
}

interface Image {
  arch: Arch
  tag: string
  size: number
  baseSize: number
}

async function main(): Promise<void> {
  const arches = archesFromArgs(process.argv.slice(2))
  const tools = ['podman', 'mmdebstrap', ...arches.filter(a => a !== HOST_ARCH).map(a => PLATFORMS[a].qemu)]
  for (const tool of tools) {
    if (!(await which(tool)))
      throw new Error(
        `${tool} is not installed: apt-get install -y podman buildah runc fuse-overlayfs uidmap slirp4netns containernetworking-plugins conmon catatonit mmdebstrap qemu-user-static`,
      )
  }

  const work = await mkdtemp(join(tmpdir(), 'kubecost-cid-image-'))
  const storage = ['--root', join(work, 'storage'), '--runroot', join(work, 'run')]
  const conf = join(work, 'containers.conf')
  // crun fails on this cgroup setup and the default nofile limit cannot be set: runc, explicit limits.
  await writeFile(
    conf,
    '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n',
  )
  const env = {...process.env, CONTAINERS_CONF: conf}
  const podman: Podman = Object.assign(
    async (args: string[], quiet = false) => must('podman', [...storage, ...args], {env, quiet}),
    {run: async (args: string[]) => run('podman', [...storage, ...args], {env, quiet: true})},
  )
  const started = Date.now()
  const sizes: string[] = []
  try {
    const nodeVersion = (
      JSON.parse(await readFile(join(ROOT, 'node_modules', 'node', 'package.json'), 'utf8')) as {version: string}
    ).version
    const npmVersion = (await must('npm', ['--version'], {quiet: true})).trim()
    for (const arch of arches) {
      const image = await buildImage(podman, work, arch, {node: nodeVersion, npm: npmVersion})
      await checkBinaries(podman, image)
      await runExport(podman, work, image)
      sizes.push(`${arch} ${(image.size / 1e6).toFixed(1)} MB`)
    }

    log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s; image ${sizes.join(', ')}`)
  } finally {
    // Unmount and drop everything podman made before the directory goes.
    await podman.run(['system', 'reset', '--force'])
    await rm(work, {recursive: true, force: true})
  }
}

/**
 * The image for one platform, from the project's Dockerfile. On the host's platform the Dockerfile's
 * own build and deps stages run (`npm ci` over the host's network); a foreign platform's build runs
 * only COPY stages (on a base and an app prepared here), so it needs no emulation: nothing of it
 * executes.
 */
async function buildImage(
  podman: Podman,
  work: string,
  arch: Arch,
  versions: {node: string; npm: string},
): Promise<Image> {
  const {node: nodeVersion, npm: npmVersion} = versions
  // The host's own platform runs the Dockerfile's stages as a user's build does.
  const ownStages = arch === HOST_ARCH
  const platform = PLATFORMS[arch]
  const dir = join(work, arch)
  const tags = {
    base: `localhost/kubecost-cid-base:${arch}`,
    app: `localhost/kubecost-cid-app:${arch}`,
    image: `localhost/kubecost-cid:${arch}`,
  }

  // 1. A base image: Debian's libraries, tini, and Node 24 from the npm registry, all of this platform;
  // with npm and a shell too when the Dockerfile's own stages are to run on it.
  const nodePackage = `node-linux-${platform.npm}`
  log(
    `${arch} base: mmdebstrap ${SUITE} --architectures=${platform.deb} + ${nodePackage}@${nodeVersion}${ownStages ? ` + npm@${npmVersion}` : ''}`,
  )
  const base = join(dir, 'base')
  await mkdir(base, {recursive: true})
  const hook = `printf 'root:x:0:0:root:/root:/usr/sbin/nologin\\nnonroot:x:${UID}:${UID}:nonroot:/home/nonroot:/usr/sbin/nologin\\n' > "$1/etc/passwd"; printf 'root:x:0:\\nnonroot:x:${UID}:\\n' > "$1/etc/group"`
  // The extract variant runs no maintainer scripts, so a foreign architecture needs no emulation.
  await must('mmdebstrap', [
    '--variant=extract',
    '--quiet',
    `--architectures=${platform.deb}`,
    `--include=libc6,libstdc++6,libgcc-s1,base-files,netbase,tzdata,ca-certificates,coreutils,tini${ownStages ? ',dash' : ''}`,
    `--extract-hook=${hook}`,
    SUITE,
    join(base, 'rootfs.tar'),
  ])
  const packages = [`${nodePackage}@${nodeVersion}`, ...(ownStages ? [`npm@${npmVersion}`] : [])]
  await must('npm', ['pack', ...packages, '--pack-destination', base, '--silent'], {quiet: true})
  const tarballs = await readdir(base)
  const tarball = (name: string) => {
    const found = tarballs.find(f => f.startsWith(`${name}-`) && f.endsWith('.tgz'))
    assert.ok(found, `npm pack gave no ${name} tarball`)
    return join(base, found)
  }
  // /usr/local as the Node images lay it out: bin/node, and npm in lib/node_modules linked from bin.
  const local = join(base, 'local', 'usr', 'local')
  await mkdir(join(local, 'bin'), {recursive: true})
  await must('tar', [
    '-xzf',
    tarball(nodePackage),
    '-C',
    join(local, 'bin'),
    '--strip-components=2',
    'package/bin/node',
  ])
  if (ownStages) {
    const npmDir = join(local, 'lib', 'node_modules', 'npm')
    await mkdir(npmDir, {recursive: true})
    await must('tar', ['-xzf', tarball('npm'), '-C', npmDir, '--strip-components=1'])
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin', 'npm'))
  }
  await must('tar', ['-cf', join(base, 'local.tar'), '-C', join(base, 'local'), 'usr'])
  await writeFile(join(base, 'Containerfile'), 'FROM scratch\nADD rootfs.tar /\nADD local.tar /\n')
  const build = ['build', '--quiet', '--pull=never', '--platform', `linux/${arch}`]
  await podman([...build, '-t', tags.base, base], true)
  const baseSize = (JSON.parse(await podman(['image', 'inspect', tags.base], true)) as Array<{Size: number}>)[0]?.Size

  // 2. Where the Dockerfile's build and deps stages cannot run (a foreign platform: RUN would need
  // emulation), the app is built and installed on the host, as those stages make it, and handed in
  // as APP_SOURCE. npm picks the optional native packages (the Snappy binding) for the platform told.
  const appArgs: string[] = []
  if (!ownStages) {
    log(`${arch} app: dist and production node_modules for linux-${platform.npm} (glibc), on the host`)
    const app = join(dir, 'app')
    const files = join(app, 'app')
    await mkdir(files, {recursive: true})
    for (const f of ['package.json', 'package-lock.json', '.npmrc', 'oclif.manifest.json'])
      await cp(join(ROOT, f), join(files, f))
    await cp(join(ROOT, 'dist'), join(files, 'dist'), {recursive: true})
    await cp(join(ROOT, 'bin'), join(files, 'bin'), {recursive: true})
    await must(
      'npm',
      [
        'ci',
        '--omit=dev',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        `--cpu=${platform.npm}`,
        '--os=linux',
        '--libc=glibc',
      ],
      {cwd: files, quiet: true},
    )
    await rm(join(files, 'package-lock.json'))
    await rm(join(files, '.npmrc'))
    await writeFile(join(app, 'Containerfile'), 'FROM scratch\nCOPY app /app\n')
    await podman([...build, '-t', tags.app, app], true)
  } else {
    // The Dockerfile's own build and deps stages, up to its `app` stage: `npm ci` reaches the registry
    // over the host's network. Where the host trusts an extra CA (a TLS-inspecting proxy), the RUN
    // steps get it too, as a volume and a global npmrc that only they see: nothing lands in a layer.
    // (Podman 4.3 does not resolve a stage named through a build argument, `FROM ${APP_SOURCE}` with
    // the default `app`, so that stage is built by --target and handed in like the other.)
    const network = ['--network', 'host']
    const cafile = await hostCaFile()
    if (cafile) {
      const npmrc = join(dir, 'npmrc')
      await writeFile(npmrc, 'cafile=/etc/ssl/build-host-ca.crt\nupdate-notifier=false\n')
      network.push(
        '--volume',
        `${cafile}:/etc/ssl/build-host-ca.crt:ro`,
        '--volume',
        `${npmrc}:/usr/local/etc/npmrc:ro`,
      )
    }
    log(`${arch} app: the Dockerfile's build and deps stages (npm ci in the build, --target app)`)
    const stagesStart = Date.now()
    await podman(
      [
        ...build,
        ...network,
        '-f',
        join(ROOT, 'Dockerfile'),
        '--build-arg',
        `NODE_IMAGE=${tags.base}`,
        '--target',
        'app',
        '-t',
        tags.app,
        ROOT,
      ],
      true,
    )
    log(`${arch} app stages built in ${((Date.now() - stagesStart) / 1000).toFixed(1)} s`)
  }
  appArgs.push('--build-arg', `APP_SOURCE=${tags.app}`)

  // 3. The project's Dockerfile, on that base. Its tini stage installs tini with apt-get, which this
  // base (no apt, no package database) cannot: the base's own tini stands in.
  log(`${arch} image: podman build --platform linux/${arch} -f Dockerfile`)
  const buildStart = Date.now()
  await podman(
    [
      ...build.filter(a => a !== '--quiet'),
      ...appArgs,
      '-f',
      join(ROOT, 'Dockerfile'),
      '--build-arg',
      `NODE_IMAGE=${tags.base}`,
      '--build-arg',
      `TINI_SOURCE=${tags.base}`,
      '-t',
      tags.image,
      ROOT,
    ],
    true,
  )
  log(`${arch} built in ${((Date.now() - buildStart) / 1000).toFixed(1)} s`)

  const [inspect] = JSON.parse(await podman(['image', 'inspect', tags.image], true)) as Array<{
    Size: number
    Architecture: string
    Os: string
    Config: {User?: string; Entrypoint?: string[]; Cmd?: string[]}
  }>
  assert.ok(inspect)
  assert.equal(inspect.Architecture, arch, 'image architecture')
  assert.equal(inspect.Os, 'linux', 'image OS')
  assert.equal(inspect.Config.User, `${UID}:${UID}`, 'image user')
  assert.deepEqual(inspect.Config.Entrypoint, ['/usr/bin/tini', '--', '/app/bin/run.js'], 'entrypoint')
  assert.deepEqual(inspect.Config.Cmd, ['export'], 'default command')
  const size = inspect.Size
  log(
    `${arch} image size ${(size / 1e6).toFixed(1)} MB (base ${((baseSize ?? 0) / 1e6).toFixed(1)} MB, app ${((size - (baseSize ?? 0)) / 1e6).toFixed(1)} MB)`,
  )
  return {arch, tag: tags.image, size, baseSize: baseSize ?? 0}
}

/**
 * Every ELF file in the image is built for its platform: Node, tini, Debian's libraries and each
 * native addon (`.node`), the Snappy binding among them; none is left from the build machine.
 */
async function checkBinaries(podman: Podman, image: Image): Promise<void> {
  const platform = PLATFORMS[image.arch]
  const root = (await podman(['image', 'mount', image.tag], true)).trim()
  try {
    const elves = new Map<string, number>()
    for (const entry of await readdir(root, {recursive: true, withFileTypes: true})) {
      if (!entry.isFile()) continue
      const path = join(entry.parentPath, entry.name)
      const machine = await elfMachine(path)
      if (machine !== undefined) elves.set(path.slice(root.length), machine)
    }

    const foreign = [...elves].filter(([, m]) => m !== platform.elfMachine).map(([p, m]) => `${p} (e_machine ${m})`)
    assert.deepEqual(foreign, [], `${image.arch} image holds binaries of another platform`)
    assert.equal(elves.get('/usr/local/bin/node'), platform.elfMachine, `node is ${platform.elfName}`)
    assert.equal(elves.get('/usr/bin/tini'), platform.elfMachine, `tini is ${platform.elfName}`)
    const addons = [...elves.keys()].filter(p => p.endsWith('.node'))
    const snappy = `/app/node_modules/@napi-rs/snappy-linux-${platform.npm}-gnu/snappy.linux-${platform.npm}-gnu.node`
    assert.ok(addons.includes(snappy), `${snappy} is in the image (addons: ${addons.join(', ')})`)
    const stray = (await readdir(join(root, 'app/node_modules/@napi-rs'))).filter(d => d.startsWith('snappy-'))
    assert.deepEqual(stray, [`snappy-linux-${platform.npm}-gnu`], 'only this platform’s Snappy binding')
    log(
      `${image.arch} binaries: ${elves.size} ELF files, all ${platform.elfName} (e_machine ${platform.elfMachine}); addons ${addons.join(', ')}`,
    )
  } finally {
    await podman(['image', 'unmount', image.tag], true)
  }
}

/**
 * Runs the image as the CronJob does, against the fake Kubecost on the host, twice: the first run
 * writes the days, the second finds them present. A foreign platform's image runs its own Node under
 * qemu-user (mounted in, named as the entry point, since without binfmt_misc the kernel cannot start
 * a foreign binary, and so neither can tini): the same export, the same checks.
 */
async function runExport(podman: Podman, work: string, image: Image): Promise<void> {
  const {arch} = image
  const qemu = arch === HOST_ARCH ? undefined : PLATFORMS[arch].qemu
  const now = new Date()
  const days = candidateDays(now)
  const fake = await FakeKubecost.start({cluster: 'prod', days, containersPerDay: 30})
  try {
    const out = join(work, arch, 'out')
    await mkdir(out)
    await chown(out, UID, UID)
    await chmod(out, 0o700)
    const emulator = qemu ? `/${qemu}` : undefined
    const runArgs = (name: string) => [
      'run',
      '--name',
      name,
      '--platform',
      `linux/${arch}`,
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
      ...(emulator ? ['-v', `${join('/usr/bin', qemu ?? '')}:${emulator}:ro`, '--entrypoint', emulator] : []),
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
      image.tag,
      // What bin/run.js's shebang runs, named for the emulator.
      ...(emulator
        ? ['/usr/local/bin/node', '--max-semi-space-size=2', '--v8-pool-size=1', '/app/bin/run.js', 'export']
        : []),
    ]
    log(`${arch} run: export as uid 65532, read-only root, tmpfs /tmp${qemu ? `, under ${qemu}` : ''}`)
    const runStart = Date.now()
    const first = await podman.run(runArgs(`kubecost-cid-${arch}`))
    process.stderr.write(first.stderr.split('\n').slice(-8).join('\n'))
    assert.equal(first.code, 0, `export in the ${arch} container exited ${first.code}:\n${first.stderr}`)
    log(`${arch} export took ${((Date.now() - runStart) / 1000).toFixed(1)} s`)

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
    // Podman itself makes the mount points in the container's layer: /out (and the emulator's),
    // and in /etc those of hosts, hostname and resolv.conf (which leave /etc changed and list nothing
    // under it).
    const mountPoints = ['A /out', 'C /etc', ...(emulator ? [`A ${emulator}`] : [])]
    const diff = (await podman(['diff', `kubecost-cid-${arch}`], true))
      .split('\n')
      .filter(line => line.trim() !== '' && !mountPoints.includes(line.trim()))
      .join('\n')
    assert.equal(diff, '', `the container changed its file system outside /tmp and /out:\n${diff}`)
    await podman(['rm', `kubecost-cid-${arch}`], true)

    // Run again: the days are present, nothing is written.
    const second = await podman.run(runArgs(`kubecost-cid-${arch}-2`))
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(await listTree(out), expected.sort())
    const allocationCalls = fake.requests.filter(r => r.api === 'allocation').length
    assert.equal(allocationCalls, days.length, 'the second run collected nothing')
    await podman(['rm', `kubecost-cid-${arch}-2`], true)
  } finally {
    await fake.close()
  }
}

await main().catch((error: unknown) => {
  process.stderr.write(
    `[test:image] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
