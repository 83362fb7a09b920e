// MLCanary task launcher: starts the mlcanary Go binary for this agent's platform with the agent's
// environment (INPUT_*, ENDPOINT_*, SYSTEM_*), forwards SIGINT/SIGTERM and exits with its code.
// It must not load azure-pipelines-task-lib: that library moves INPUT_* and ENDPOINT_AUTH_* out of
// process.env, and the binary would not see its inputs. No dependencies: Node's standard library only.
//
// Binaries live in bin/ as mlcanary-<os>-<arch>[.exe], or brotli-compressed as the same name plus
// ".br" to fit the Marketplace size limit; a compressed binary is unpacked once per agent into the
// agent's tools directory (else its temp directory), keyed by the archive's SHA-256.
'use strict';

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const OS = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const ARCH = { x64: 'amd64', arm64: 'arm64' };
const SUPPORTED = ['linux-amd64', 'linux-arm64', 'darwin-arm64', 'windows-amd64'];

function fail(message) {
  const msg = String(message).replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  if (process.env.GITHUB_ACTIONS === 'true') {
    process.stdout.write('::error::' + String(message).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A') + '\n');
  } else {
    process.stdout.write('##vso[task.logissue type=error]' + msg + '\n');
    process.stdout.write('##vso[task.complete result=Failed;]' + msg + '\n');
  }
  process.exit(1);
}

// platform returns e.g. "linux-amd64", or null when no binary is built for this agent.
function platform() {
  const p = `${OS[process.platform]}-${ARCH[process.arch]}`;
  return SUPPORTED.includes(p) ? p : null;
}

// cacheDir is where unpacked binaries are kept: the agent's tools directory survives jobs.
function cacheDir() {
  const base = process.env.AGENT_TOOLSDIRECTORY || process.env.RUNNER_TOOL_CACHE ||
    process.env.AGENT_TEMPDIRECTORY || process.env.RUNNER_TEMP || os.tmpdir();
  return path.join(base, 'mlcanary');
}

// unpack decompresses archive once into the cache and returns the binary's path.
function unpack(archive, name) {
  const data = fs.readFileSync(archive);
  const sum = crypto.createHash('sha256').update(data).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir(), sum);
  const target = path.join(dir, name);
  if (fs.existsSync(target)) {
    return target;
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, zlib.brotliDecompressSync(data), { mode: 0o755 });
  try {
    fs.renameSync(tmp, target); // atomic: a parallel job sees the whole file or none
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (!fs.existsSync(target)) {
      throw err;
    }
  }
  return target;
}

// binary finds (and if needed unpacks) the binary for this platform.
function binary() {
  const p = platform();
  if (!p) {
    fail(`MLCanary does not support ${process.platform}/${process.arch}; supported agents: ${SUPPORTED.join(', ')}`);
  }
  const name = `mlcanary-${p}${p.startsWith('windows') ? '.exe' : ''}`;
  const plain = path.join(__dirname, 'bin', name);
  if (fs.existsSync(plain)) {
    return plain;
  }
  const archive = plain + '.br';
  if (fs.existsSync(archive)) {
    return unpack(archive, name);
  }
  return fail(`MLCanary's binary ${name} is missing from the task package (${path.join(__dirname, 'bin')})`);
}

function main() {
  let bin;
  try {
    bin = binary();
    if (process.platform !== 'win32') {
      fs.chmodSync(bin, 0o755); // the .vsix zip does not keep the execute bit
    }
  } catch (err) {
    fail(`MLCanary could not prepare its binary: ${err.message}`);
  }
  const child = childProcess.spawn(bin, process.argv.slice(2), { stdio: 'inherit', env: process.env });
  const forward = (signal) => () => { child.kill(signal); };
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('error', (err) => fail(`MLCanary could not start ${bin}: ${err.message}`));
  child.on('exit', (code, signal) => {
    process.exit(code !== null ? code : 128 + (os.constants.signals[signal] || 0));
  });
}

main();
