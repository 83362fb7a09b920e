// Build tool (not shipped): packs mlcanary binaries into one brotli stream plus an index, so the
// .vsix fits the Marketplace limit. One stream with a window as large as the input lets the later
// binaries reuse what they share with the earlier ones (strings, type and symbol tables), which
// separate archives cannot: for four platforms it is about a quarter smaller.
//
// Usage: node pack.js <out-dir> <quality 0-11> <binary>...
// Writes <out-dir>/mlcanary.br and <out-dir>/mlcanary.json:
//   {"binaries": {"mlcanary-linux-amd64": {"offset": 0, "size": N, "sha256": "..."}, ...}}
// task/index.js reads them.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

function main() {
  const [outDir, quality, ...binaries] = process.argv.slice(2);
  if (!outDir || !binaries.length) {
    console.error('usage: node pack.js <out-dir> <quality 0-11> <binary>...');
    process.exit(2);
  }
  const index = { binaries: {} };
  const parts = [];
  let offset = 0;
  for (const file of binaries) {
    const data = fs.readFileSync(file);
    index.binaries[path.basename(file)] = {
      offset,
      size: data.length,
      sha256: crypto.createHash('sha256').update(data).digest('hex'),
    };
    parts.push(data);
    offset += data.length;
  }
  const all = Buffer.concat(parts);
  const C = zlib.constants;
  const packed = zlib.brotliCompressSync(all, {
    params: {
      [C.BROTLI_PARAM_QUALITY]: Number(quality),
      [C.BROTLI_PARAM_LARGE_WINDOW]: 1,
      [C.BROTLI_PARAM_LGWIN]: 30,
      [C.BROTLI_PARAM_SIZE_HINT]: all.length,
    },
  });
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'mlcanary.br'), packed);
  fs.writeFileSync(path.join(outDir, 'mlcanary.json'), JSON.stringify(index, null, 2) + '\n');
  console.log(`packed ${binaries.length} binaries: ${all.length} -> ${packed.length} bytes`);
}

main();
