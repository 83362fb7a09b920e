// MLCanary task launcher: starts `mlcanary azure-devops-task` (the binary for this agent's
// platform) with the agent's environment (INPUT_*, ENDPOINT_*, SYSTEM_*), forwards SIGINT/SIGTERM
// (not on Windows, where the console delivers Ctrl-C to mlcanary itself) and exits with its code.
// It must not load azure-pipelines-task-lib: that library moves INPUT_* and ENDPOINT_AUTH_* out of
// process.env, and the binary would not see its inputs. No dependencies: Node's standard library only.
//
// Binaries are bin/mlcanary-<os>-<arch>[.exe] (a development layout), or packed into one brotli
// stream bin/mlcanary.br with its index bin/mlcanary.json (what the .vsix ships; see pack.js). A
// packed binary is unpacked once per agent into the agent's tools directory (else its temp
// directory), in a folder named after its SHA-256, and checked against that hash on every run: the
// tools directory outlives jobs on self-hosted agents, so a cached binary is never trusted by size.
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
  const text = String(message);
  if (process.env.GITHUB_ACTIONS === 'true') {
    process.stdout.write('::error::' + text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A') + '\n');
  } else {
    const msg = text.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
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

// extract streams the packed archive through brotli and keeps bytes [offset, offset+size) in file,
// stopping as soon as they are written.
function extract(archive, entry, file) {
  return new Promise((resolve, reject) => {
    const input = fs.createReadStream(archive);
    const brotli = zlib.createBrotliDecompress({
      params: { [zlib.constants.BROTLI_DECODER_PARAM_LARGE_WINDOW]: 1 },
    });
    const out = fs.openSync(file, 'w', 0o755);
    const hash = crypto.createHash('sha256');
    const end = entry.offset + entry.size;
    let pos = 0;
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      fs.closeSync(out);
      input.destroy();
      brotli.destroy();
      err ? reject(err) : resolve(hash.digest('hex'));
    };
    brotli.on('data', (chunk) => {
      const from = Math.max(entry.offset - pos, 0);
      const to = Math.min(end - pos, chunk.length);
      if (to > from) {
        const part = chunk.subarray(from, to);
        fs.writeSync(out, part);
        hash.update(part);
      }
      pos += chunk.length;
      if (pos >= end) finish();
    });
    brotli.on('end', () => finish(pos < end ? new Error('the packed archive is truncated') : null));
    brotli.on('error', finish);
    input.on('error', finish);
    input.pipe(brotli);
  });
}

// sha256File resolves to the hex SHA-256 of file.
function sha256File(file) {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    fs.createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

// intact resolves to whether file exists and is exactly the binary entry describes.
async function intact(file, entry) {
  try {
    return fs.statSync(file).size === entry.size && (await sha256File(file)) === entry.sha256;
  } catch (err) {
    return false;
  }
}

// unpack returns the cached binary name from the packed archive, extracting it when the cache does
// not hold it intact (first use, or a file that was changed since).
async function unpack(dir, name) {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'mlcanary.json'), 'utf8'));
  const entry = index.binaries[name];
  if (!entry) {
    fail(`MLCanary's binary ${name} is missing from the task package`);
  }
  const target = path.join(cacheDir(), entry.sha256.slice(0, 16), name);
  if (await intact(target, entry)) {
    return target;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    const sum = await extract(path.join(dir, 'mlcanary.br'), entry, tmp);
    if (sum !== entry.sha256) {
      throw new Error(`${name} unpacked with SHA-256 ${sum}, want ${entry.sha256}`);
    }
    try {
      fs.renameSync(tmp, target); // atomic: a parallel job sees the whole file or none
    } catch (err) {
      // On Windows, renaming onto an .exe that a parallel job unpacked and runs fails (EPERM):
      // that file will do if it is intact.
      if (!(await intact(target, entry))) {
        throw err;
      }
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return target;
}

// binary finds (and if needed unpacks) the binary for this platform.
async function binary() {
  const p = platform();
  if (!p) {
    fail(`MLCanary does not support ${process.platform}/${process.arch}; supported agents: ${SUPPORTED.join(', ')}`);
  }
  const name = `mlcanary-${p}${p.startsWith('windows') ? '.exe' : ''}`;
  const dir = path.join(__dirname, 'bin');
  const plain = path.join(dir, name);
  if (fs.existsSync(plain)) {
    return plain;
  }
  if (fs.existsSync(path.join(dir, 'mlcanary.json'))) {
    return unpack(dir, name);
  }
  return fail(`MLCanary's binary ${name} is missing from the task package (${dir})`);
}

function run(bin) {
  if (process.platform !== 'win32') {
    fs.chmodSync(bin, 0o755); // the .vsix zip does not keep the execute bit
  }
  // The agent starts `node index.js` with no arguments: the launcher names the task's command, as
  // action.yml names github-action. Arguments given (tests, a person running the launcher by hand,
  // e.g. `node index.js version`) are passed on instead.
  const args = process.argv.length > 2 ? process.argv.slice(2) : ['azure-devops-task'];
  const child = childProcess.spawn(bin, args, { stdio: 'inherit', env: process.env });
  if (process.platform === 'win32') {
    // Windows has no signals to forward: child.kill() is TerminateProcess, which would stop mlcanary
    // before it reports. The agent's Ctrl-C (or Ctrl-Break) reaches every process on the console,
    // mlcanary included, so the launcher only keeps running until mlcanary exits with its code.
    const wait = () => {};
    process.on('SIGINT', wait);
    process.on('SIGBREAK', wait);
  } else {
    const forward = (signal) => () => { child.kill(signal); };
    process.on('SIGINT', forward('SIGINT'));
    process.on('SIGTERM', forward('SIGTERM'));
  }
  child.on('error', (err) => fail(`MLCanary could not start ${bin}: ${err.message}`));
  child.on('exit', (code, signal) => {
    process.exit(code !== null ? code : 128 + (os.constants.signals[signal] || 0));
  });
}

binary().then(run, (err) => fail(`MLCanary could not prepare its binary: ${err.message}`));
