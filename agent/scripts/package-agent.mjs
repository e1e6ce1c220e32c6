#!/usr/bin/env node
// `npm run package:agent` (after `npm run build`): the agent as a Node single executable
// application for linux-x64, agent/dist/pkg/envparity-agent, and the Debian package
// agent/dist/pkg/envparity-agent_<version>_amd64.deb built from it and deploy/debian/.
//
// The executable is this Node (process.execPath) with the agent bundle injected (postject): Node 20
// runs an executable's script as CommonJS, so the script is the same bundle as
// agent/dist/envparity-agent.mjs (same entry, same options) in CommonJS form, with V8's code cache.
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inject } from 'postject';
import { AGENT_DIR, bundleAgent } from './bundle.mjs';

export const PACKAGE_DIR = join(AGENT_DIR, 'dist', 'pkg');
export const EXECUTABLE_FILE = join(PACKAGE_DIR, 'envparity-agent');
const DEBIAN_SOURCES = join(AGENT_DIR, '..', 'deploy', 'debian');

// The fuse Node looks for to know a blob was injected (fixed by Node, see its SEA documentation).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export function debFile(version) {
  return join(PACKAGE_DIR, `envparity-agent_${version}_amd64.deb`);
}

function requireLinuxX64() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `package:agent builds linux-x64 only (the Node it copies); this is ${process.platform}-${process.arch}`,
    );
  }
}

/** Bundle -> preparation blob -> a copy of this Node with the blob injected, at `outfile`. */
async function buildExecutable(workDir, outfile) {
  const script = join(workDir, 'envparity-agent.cjs');
  const { version } = await bundleAgent({ format: 'cjs', outfile: script });
  const blob = join(workDir, 'sea-prep.blob');
  const seaConfig = join(workDir, 'sea-config.json');
  await writeFile(
    seaConfig,
    JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
  );
  // Its output (one line on success) is in the thrown error when it fails.
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: 'pipe' });
  const binary = join(workDir, 'envparity-agent');
  await copyFile(process.execPath, binary);
  await chmod(binary, 0o755);
  await inject(binary, 'NODE_SEA_BLOB', await readFile(blob), { sentinelFuse: SEA_FUSE });
  // The executable must answer as the agent it embeds, or nothing is shipped.
  const answered = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (answered !== version)
    throw new Error(`the built executable answered --version with "${answered}", not ${version}`);
  await rename(binary, outfile);
  return version;
}

/** Lays out the package tree under `root` (modes set explicitly: dpkg-deb keeps them). */
async function stageDebTree(root, executable, version) {
  const place = async (source, target, mode) => {
    await mkdir(join(root, target, '..'), { recursive: true });
    await copyFile(source, join(root, target));
    await chmod(join(root, target), mode);
  };
  await place(executable, 'usr/bin/envparity-agent', 0o755);
  await place(join(DEBIAN_SOURCES, 'envparity-agent.service'), 'lib/systemd/system/envparity-agent.service', 0o644);
  await place(join(DEBIAN_SOURCES, 'agent.yaml'), 'etc/envparity/agent.yaml', 0o644);
  await place(join(DEBIAN_SOURCES, 'envparity-agent.default'), 'etc/default/envparity-agent', 0o640);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    await place(join(DEBIAN_SOURCES, script), `DEBIAN/${script}`, 0o755);
  }
  await place(join(DEBIAN_SOURCES, 'conffiles'), 'DEBIAN/conffiles', 0o644);
  const installedKib = Math.ceil((await stat(executable)).size / 1024) + 16;
  const control = (await readFile(join(DEBIAN_SOURCES, 'control.in'), 'utf8'))
    .replaceAll('@VERSION@', version)
    .replaceAll('@INSTALLED_SIZE@', String(installedKib));
  await writeFile(join(root, 'DEBIAN', 'control'), control, { mode: 0o644 });
  for (const dir of [
    'DEBIAN',
    'usr',
    'usr/bin',
    'lib',
    'lib/systemd',
    'lib/systemd/system',
    'etc',
    'etc/envparity',
    'etc/default',
  ]) {
    await chmod(join(root, dir), 0o755);
  }
}

async function buildDeb(workDir, executable, version) {
  const root = join(workDir, 'deb-root');
  await stageDebTree(root, executable, version);
  const out = debFile(version);
  // --root-owner-group: every file root:root in the package, whoever builds it (no fakeroot).
  // gzip: read by every dpkg (zstd needs dpkg >= 1.21.18) and 5 s here, where xz took 80 s.
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, `${out}.partial`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await rename(`${out}.partial`, out);
  return out;
}

/** Builds the executable and the .deb into agent/dist/pkg/; resolves with their paths. */
export async function packageAgent() {
  requireLinuxX64();
  await mkdir(PACKAGE_DIR, { recursive: true });
  // Work beside the outputs (same filesystem: the final renames are atomic), removed at the end.
  const workDir = await mkdtemp(join(PACKAGE_DIR, '.build-'));
  try {
    const version = await buildExecutable(workDir, EXECUTABLE_FILE);
    const deb = await buildDeb(workDir, EXECUTABLE_FILE, version);
    return { executable: EXECUTABLE_FILE, deb, version };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { executable, deb } = await packageAgent();
  console.log(`single executable: ${executable}\ndebian package:    ${deb}`);
}
