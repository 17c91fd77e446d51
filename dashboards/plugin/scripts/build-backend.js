#!/usr/bin/env node
// Builds the plugin's Go backend into dist/ for the platforms Grafana runs it on, named as Grafana looks
// for them: <executable>_<GOOS>_<GOARCH> (executable from src/plugin.json). Static (CGO_ENABLED=0), from
// the repository's one go.mod. Fails with a clear message when Go or the backend is missing.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const PKG = path.join(ROOT, 'pkg');
const DIST = path.join(ROOT, 'dist');
const TARGETS = [
  { goos: 'linux', goarch: 'amd64' },
  { goos: 'linux', goarch: 'arm64' },
];

function fail(msg) {
  console.error(`build-backend: ${msg}`);
  process.exit(1);
}

const { executable } = JSON.parse(fs.readFileSync(path.join(ROOT, 'src', 'plugin.json'), 'utf8'));
if (!executable) {
  fail('src/plugin.json has no "executable": nothing to build');
}
if (!fs.existsSync(path.join(PKG, 'main.go'))) {
  fail(`${PKG}/main.go is missing: the Go backend (package main calling datasource.Manage) must be there before the plugin can be built`);
}

const env = { ...process.env, CGO_ENABLED: '0' };
const goDirs = ['/usr/local/go/bin', '/usr/lib/go/bin'];
env.PATH = [env.PATH, ...goDirs].filter(Boolean).join(path.delimiter);
try {
  execFileSync('go', ['version'], { env, stdio: 'ignore' });
} catch {
  fail('the go command was not found: install Go (deploy/setup.sh does) or put it on PATH');
}

fs.mkdirSync(DIST, { recursive: true });
for (const { goos, goarch } of TARGETS) {
  const out = path.join(DIST, `${executable}_${goos}_${goarch}`);
  const started = Date.now();
  try {
    // -s -w: no symbol table or DWARF; Grafana does not need them and the files halve in size.
    execFileSync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', out, './pkg'], {
      cwd: ROOT,
      env: { ...env, GOOS: goos, GOARCH: goarch },
      stdio: 'inherit',
    });
  } catch (e) {
    fail(`go build for ${goos}/${goarch} failed (exit ${e.status}); the compiler's messages are above`);
  }
  const mb = (fs.statSync(out).size / 1e6).toFixed(1);
  console.log(`build-backend: ${path.relative(ROOT, out)} (${mb} MB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
