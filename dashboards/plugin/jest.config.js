// Jest as @grafana/create-plugin sets it up: swc transforms TypeScript, jsdom renders the editors, and the
// few dependencies of @grafana/* that ship only ES modules are transformed too.
process.env.TZ = 'UTC';
const path = require('path');

const esModules = [
  '@grafana/schema',
  '@wojtekmaj/date-utils',
  'd3',
  'd3-color',
  'd3-force',
  'd3-interpolate',
  'd3-scale-chromatic',
  'get-user-locale',
  'marked',
  'memoize',
  'mimic-function',
  'ol',
  'react-calendar',
  'react-colorful',
  'rxjs',
  'uuid',
];

module.exports = {
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
    // @grafana/ui's Icon fetches SVGs over HTTP; there is no Grafana server in a unit test.
    'react-inlinesvg': path.resolve(__dirname, 'test', 'mocks', 'react-inlinesvg.tsx'),
  },
  modulePaths: ['<rootDir>/src'],
  setupFilesAfterEnv: ['<rootDir>/jest-setup.js'],
  testEnvironment: 'jest-environment-jsdom',
  testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}', '<rootDir>/scripts/**/*.test.js'],
  transform: {
    '^.+\\.(m?js|jsx|tsx?)$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } } } },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!.*(${esModules.join('|')})/.*)`],
  // The machine is shared: a render can take seconds when the CPUs are busy.
  testTimeout: 60000,
  watchPathIgnorePatterns: ['<rootDir>/node_modules', '<rootDir>/dist'],
};
