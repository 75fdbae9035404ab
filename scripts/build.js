#!/usr/bin/env node
/*
 * Builds dist/ only when a source changed, and says so while it compiles. `tsc -b` keeps its build
 * info in dist/ and, when every output is newer than its inputs, answers in well under a second; a
 * first build takes tens of seconds on two cores, which a user starting the hub should be told about
 * rather than left looking at an empty terminal. Plain JavaScript: it runs before anything is built.
 */
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const started = Date.now();
let building = false;
let output = '';

// --verbose names the step it takes; only "Building project" means the sources are compiled
const child = spawn(process.execPath, [tsc, '-b', path.join(root, 'tsconfig.json'), '--verbose'], { cwd: root });
child.stdout.on('data', (chunk) => {
  output += chunk;
  if (!building && output.includes('Building project')) {
    building = true;
    process.stderr.write('aid-gateway: compiling the TypeScript sources into dist/ (a first build takes ~10-60 s)…\n');
  }
});
child.stderr.on('data', (chunk) => (output += chunk));
child.on('close', (code) => {
  if (code !== 0) {
    // the compiler's own report (file:line: error TS…) without the progress lines --verbose adds
    const progress = / - (Projects in this build|Project '|Building project|Updating )|^\s+\* |^\s*$/;
    process.stderr.write(
      `${output
        .split('\n')
        .filter((line) => !progress.test(line))
        .join('\n')}\n`,
    );
    process.exit(code ?? 1);
  }
  if (building) process.stderr.write(`aid-gateway: built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
