#!/usr/bin/env node
// Checks that dist/ is a complete Grafana plugin: module.js (AMD), plugin.json valid against the schema
// in test/ with its version filled in, the logo, and one backend executable per platform that is
// executable, ELF, 64-bit and for the right CPU. `npm run check-dist` runs it after `npm run build`.
'use strict';
const fs = require('fs');
const path = require('path');
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
  const moduleJs = path.join(dist, 'module.js');
  if (!fs.existsSync(moduleJs)) {
    problems.push('module.js is missing');
  } else if (!/\bdefine\(/.test(fs.readFileSync(moduleJs, 'utf8').slice(0, 4096))) {
    problems.push('module.js is not an AMD module (no define( at its start): Grafana loads plugins with SystemJS');
  }
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

module.exports = { checkDist, loadSchema, elfHeader };

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
  console.log(`check-dist: ${dist} is complete: module.js, plugin.json (valid), logo, ${PLATFORMS.map((p) => p.suffix).join(' and ')} executables`);
}
