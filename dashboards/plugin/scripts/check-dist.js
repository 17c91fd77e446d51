#!/usr/bin/env node
// Checks that dist/ is a complete Grafana plugin: module.js (AMD), plugin.json valid against the schema
// in test/ with its version filled in, the logo, and one backend executable per platform that is
// executable, ELF, 64-bit and for the right CPU. `npm run check-dist` runs it after `npm run build`.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Ajv = require('ajv');
const semver = require('semver');

const ROOT = path.resolve(__dirname, '..');

/** The executables Grafana looks for: <executable>_linux_<arch>, with the ELF machine each must be for. */
const PLATFORMS = [
  { suffix: 'linux_amd64', machine: 0x3e, cpu: 'x86-64' },
  { suffix: 'linux_arm64', machine: 0xb7, cpu: 'AArch64' },
];

const MACHINES = { 0x03: 'x86', 0x28: 'ARM', 0x3e: 'x86-64', 0xb7: 'AArch64', 0xf3: 'RISC-V' };

/** Reads an ELF header; undefined when the file is not ELF. */
function elfHeader(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(20);
    if (fs.readSync(fd, b, 0, 20, 0) < 20 || b.toString('latin1', 0, 4) !== '\x7fELF') {
      return undefined;
    }
    const little = b[5] === 1;
    return {
      class64: b[4] === 2,
      type: little ? b.readUInt16LE(16) : b.readUInt16BE(16),
      machine: little ? b.readUInt16LE(18) : b.readUInt16BE(18),
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** What Grafana hands a plugin's AMD module (create-plugin's externals); anything else must be bundled. */
const GRAFANA_PROVIDES = [
  /^@grafana\/(data|ui|runtime)$/,
  /^(react|react-dom|react\/jsx-runtime|react-redux|redux|rxjs|rxjs\/operators|lodash|moment|jquery|d3|i18next|react-router|emotion|@emotion\/(react|css)|prismjs|slate|slate-plain-serializer|@grafana\/slate-react|angular|module)$/,
];

/**
 * Runs module.js the way Grafana's SystemJS does, with stand-ins for Grafana's libraries, and returns
 * what it registered: the dependencies it asked for and whether it exported a data source plugin with a
 * config and a query editor. Stand-ins, because the real libraries need Grafana's page around them.
 */
function loadModule(code) {
  const calls = [];
  class FakePlugin {
    constructor(ds) {
      calls.push(['new DataSourcePlugin', typeof ds]);
    }
    setConfigEditor(c) {
      calls.push(['setConfigEditor', typeof c]);
      return this;
    }
    setQueryEditor(c) {
      calls.push(['setQueryEditor', typeof c]);
      return this;
    }
    setQueryEditorHelp(c) {
      calls.push(['setQueryEditorHelp', typeof c]);
      return this;
    }
  }
  const stub = (name) =>
    new Proxy(
      {},
      {
        get: (_, key) => {
          if (key === '__esModule' || key === 'then' || typeof key === 'symbol') {
            return undefined;
          }
          if (name === '@grafana/data' && key === 'DataSourcePlugin') {
            return FakePlugin;
          }
          return class Stub {};
        },
      }
    );
  let deps;
  let exported;
  const define = (names, factory) => {
    deps = names;
    exported = factory(...names.map(stub));
  };
  define.amd = true;
  vm.runInNewContext(code, { define, console, window: {}, self: {} }, { timeout: 5000 });
  return { deps, exported, calls };
}

function checkModule(file) {
  if (!fs.existsSync(file)) {
    return ['module.js is missing'];
  }
  const code = fs.readFileSync(file, 'utf8');
  if (!/^\s*(\/\*[\s\S]*?\*\/\s*)*define\(/.test(code)) {
    return ['module.js is not an AMD module (no define( at its start): Grafana loads plugins with SystemJS'];
  }
  let mod;
  try {
    mod = loadModule(code);
  } catch (e) {
    return [`module.js fails when loaded: ${e.message}`];
  }
  const problems = [];
  for (const d of mod.deps ?? []) {
    if (!GRAFANA_PROVIDES.some((re) => re.test(d))) {
      problems.push(`module.js expects Grafana to provide ${JSON.stringify(d)}, which it does not: bundle it (remove it from the webpack externals)`);
    }
  }
  const plugin = mod.exported && mod.exported.plugin;
  if (!plugin || plugin.constructor.name !== 'FakePlugin') {
    problems.push('module.js does not export `plugin` as a DataSourcePlugin');
  }
  for (const step of ['setConfigEditor', 'setQueryEditor']) {
    if (!mod.calls.some(([c, t]) => c === step && t === 'function')) {
      problems.push(`module.js does not call ${step} with a component`);
    }
  }
  return problems;
}

function checkExecutable(file, want) {
  const name = path.basename(file);
  if (!fs.existsSync(file)) {
    return [`${name} is missing: run npm run build (it builds the Go backend with build-backend.js)`];
  }
  const problems = [];
  if ((fs.statSync(file).mode & 0o111) === 0) {
    problems.push(`${name} is not executable (chmod +x, or rebuild)`);
  }
  const elf = elfHeader(file);
  if (!elf) {
    return [...problems, `${name} is not an ELF executable`];
  }
  if (!elf.class64) {
    problems.push(`${name} is a 32-bit ELF file, want 64-bit`);
  }
  if (elf.type !== 2 && elf.type !== 3) {
    problems.push(`${name} is an ELF object of type ${elf.type}, want an executable`);
  }
  if (elf.machine !== want.machine) {
    const got = MACHINES[elf.machine] ?? `machine 0x${elf.machine.toString(16)}`;
    problems.push(`${name} is built for ${got}, want ${want.cpu}`);
  }
  return problems;
}

function checkPluginJson(file, schema) {
  if (!fs.existsSync(file)) {
    return { problems: ['plugin.json is missing'] };
  }
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { problems: [`plugin.json is not JSON: ${e.message}`] };
  }
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  const problems = [];
  if (!validate(json)) {
    for (const e of validate.errors) {
      const extra = e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : '';
      problems.push(`plugin.json${e.instancePath || ''}: ${e.message}${extra}`);
    }
  }
  const info = json.info || {};
  if (info.version === '%VERSION%' || info.updated === '%TODAY%') {
    problems.push('plugin.json: %VERSION% or %TODAY% was not filled in by the build');
  }
  const dep = json.dependencies && json.dependencies.grafanaDependency;
  if (dep && !semver.validRange(dep)) {
    problems.push(`plugin.json/dependencies/grafanaDependency: ${JSON.stringify(dep)} is not a semver range`);
  }
  return { json, problems };
}

/** All that is wrong with a dist directory; empty when it is a complete plugin. */
function checkDist(dist, schema) {
  const problems = [];
  if (!fs.existsSync(dist)) {
    return [`${dist} does not exist: run npm run build`];
  }
  problems.push(...checkModule(path.join(dist, 'module.js')));
  const { json, problems: pj } = checkPluginJson(path.join(dist, 'plugin.json'), schema);
  problems.push(...pj);
  if (json) {
    for (const logo of new Set([json.info?.logos?.small, json.info?.logos?.large].filter(Boolean))) {
      if (!fs.existsSync(path.join(dist, logo))) {
        problems.push(`${logo} (a logo named in plugin.json) is missing`);
      }
    }
    if (json.backend) {
      if (!json.executable) {
        problems.push('plugin.json has backend: true but no executable');
      } else {
        for (const p of PLATFORMS) {
          problems.push(...checkExecutable(path.join(dist, `${json.executable}_${p.suffix}`), p));
        }
      }
    }
  }
  return problems;
}

function loadSchema() {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'plugin.schema.json'), 'utf8'));
}

module.exports = { checkDist, loadSchema, elfHeader, loadModule };

if (require.main === module) {
  const dist = path.resolve(process.argv[2] || path.join(ROOT, 'dist'));
  const problems = checkDist(dist, loadSchema());
  if (problems.length > 0) {
    console.error(`check-dist: ${dist} is not a complete plugin:`);
    for (const p of problems) {
      console.error(`  - ${p}`);
    }
    process.exit(1);
  }
  console.log(`check-dist: ${dist} is complete: module.js (AMD, exports the plugin), plugin.json (valid), logo, ${PLATFORMS.map((p) => p.suffix).join(' and ')} executables`);
}
