/**
 * @jest-environment node
 */
// The dist checker must fail on each way dist/ can be incomplete. Each case builds a small dist/ of its
// own in a temporary directory: the executables are real ELF headers written byte by byte (a header is
// all the checker reads), so no Go build is needed here; the real dist/ is checked by `npm run check-dist`
// after `npm run build`.
const fs = require('fs');
const os = require('os');
const path = require('path');

const { checkDist, loadSchema } = require('./check-dist');

const schema = loadSchema();
const source = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'src', 'plugin.json'), 'utf8'));
const built = { ...source, info: { ...source.info, version: '0.1.0', updated: '2026-11-26' } };

const X86_64 = 0x3e;
const AARCH64 = 0xb7;

function elf(machine, { class64 = true, type = 2 } = {}) {
  const b = Buffer.alloc(64);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = class64 ? 2 : 1;
  b[5] = 1; // little-endian
  b[6] = 1;
  b.writeUInt16LE(type, 16);
  b.writeUInt16LE(machine, 18);
  return b;
}

/** A module.js shaped like webpack's AMD output of src/module.ts. */
function amd({ deps = ['@grafana/data', 'react'], body = 'new d.DataSourcePlugin(function DS() {}).setConfigEditor(C).setQueryEditor(C)' } = {}) {
  return `define(${JSON.stringify(deps)}, function (d, r) { function C() {} return { plugin: ${body} }; });`;
}

let dirs = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A complete dist/, then `change` breaks it. */
function dist(change = {}) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zw-dist-'));
  dirs.push(d);
  const files = {
    'module.js': amd(),
    'plugin.json': JSON.stringify(built),
    'img/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'gpx_zonewatch_linux_amd64': elf(X86_64),
    'gpx_zonewatch_linux_arm64': elf(AARCH64),
    ...change,
  };
  for (const [name, content] of Object.entries(files)) {
    if (content === undefined) {
      continue;
    }
    fs.mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
    fs.writeFileSync(path.join(d, name), content, { mode: name.startsWith('gpx_') ? 0o755 : 0o644 });
  }
  return d;
}

test('a complete dist passes', () => {
  expect(checkDist(dist(), schema)).toEqual([]);
});

test("the source plugin.json is valid apart from the build's placeholders", () => {
  expect(checkDist(dist({ 'plugin.json': JSON.stringify(source) }), schema)).toEqual([
    'plugin.json: %VERSION% or %TODAY% was not filled in by the build',
  ]);
});

test.each([
  ['no module.js', { 'module.js': undefined }, /module\.js is missing/],
  ['module.js not AMD', { 'module.js': 'export const plugin = 1;' }, /not an AMD module/],
  ['module.js needs what Grafana does not provide', { 'module.js': amd({ deps: ['@grafana/data', 'lodash-es'] }) }, /provide "lodash-es", which it does not/],
  ['module.js exports no plugin', { 'module.js': amd({ body: 'undefined' }) }, /does not export `plugin`/],
  ['module.js sets no query editor', { 'module.js': amd({ body: 'new d.DataSourcePlugin(function DS() {}).setConfigEditor(C)' }) }, /does not call setQueryEditor/],
  ['module.js throws when loaded', { 'module.js': amd({ body: 'r.missing.deep.x' }) }, /fails when loaded/],
  ['no logo', { 'img/logo.svg': undefined }, /img\/logo\.svg .* is missing/],
  ['no arm64 executable', { gpx_zonewatch_linux_arm64: undefined }, /gpx_zonewatch_linux_arm64 is missing/],
  ['arm64 built for x86-64', { gpx_zonewatch_linux_arm64: elf(X86_64) }, /linux_arm64 is built for x86-64, want AArch64/],
  ['amd64 built for AArch64', { gpx_zonewatch_linux_amd64: elf(AARCH64) }, /linux_amd64 is built for AArch64, want x86-64/],
  ['a 32-bit executable', { gpx_zonewatch_linux_amd64: elf(X86_64, { class64: false }) }, /32-bit/],
  ['an object file', { gpx_zonewatch_linux_amd64: elf(X86_64, { type: 1 }) }, /type 1, want an executable/],
  ['not ELF at all', { gpx_zonewatch_linux_amd64: '#!/bin/sh\necho hi\n' }, /linux_amd64 is not an ELF executable/],
  ['plugin.json not JSON', { 'plugin.json': '{"id": ' }, /plugin\.json is not JSON/],
  ['an unknown key', { 'plugin.json': JSON.stringify({ ...built, backendd: true }) }, /must NOT have additional properties \(backendd\)/],
  ['a bad id', { 'plugin.json': JSON.stringify({ ...built, id: 'ZoneWatch' }) }, /plugin\.json\/id: must match pattern/],
  ['no info', { 'plugin.json': JSON.stringify({ ...built, info: undefined }) }, /must have required property 'info'/],
  ['no keywords', { 'plugin.json': JSON.stringify({ ...built, info: { ...built.info, keywords: [] } }) }, /keywords: must NOT have fewer than 1 items/],
  ['alerting without backend', { 'plugin.json': JSON.stringify({ ...built, backend: false }) }, /plugin\.json\/backend: must be equal to constant/],
  ['grafanaDependency not a range', { 'plugin.json': JSON.stringify({ ...built, dependencies: { grafanaDependency: '>=12.0.0 garbage' } }) }, /grafanaDependency/],
])('%s is reported', (_name, change, want) => {
  const problems = checkDist(dist(change), schema);
  expect(problems.join('\n')).toMatch(want);
});

test('an executable without the x bit is reported', () => {
  const d = dist();
  fs.chmodSync(path.join(d, 'gpx_zonewatch_linux_arm64'), 0o644);
  expect(checkDist(d, schema)).toEqual(['gpx_zonewatch_linux_arm64 is not executable (chmod +x, or rebuild)']);
});

test('a missing dist says to build', () => {
  expect(checkDist(path.join(os.tmpdir(), 'zw-no-such-dist'), schema)).toEqual([
    expect.stringMatching(/does not exist: run npm run build/),
  ]);
});
