// A smaller webpack configuration with the same output as @grafana/create-plugin's: dist/module.js as an
// AMD module (Grafana loads plugins with SystemJS), Grafana's own libraries left as externals so the
// plugin uses the running Grafana's copies, and plugin.json, the logo, README and CHANGELOG copied next to
// it with %VERSION% and %TODAY% filled in. Left out of the scaffold: the dynamic public path (this plugin
// has no lazy chunks or imported assets), live reload, ESLint and subresource integrity.
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const pkg = require('./package.json');
const pluginJson = require('./src/plugin.json');

const DIST = path.resolve(__dirname, 'dist');

// As in create-plugin's bundler/externals.ts.
const externals = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react/jsx-runtime',
  'react/jsx-dev-runtime',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
];

function fillIn(content) {
  return content
    .toString()
    .replace(/%VERSION%/g, pkg.version)
    .replace(/%TODAY%/g, new Date().toISOString().substring(0, 10))
    .replace(/%PLUGIN_ID%/g, pluginJson.id);
}

module.exports = (env = {}) => ({
  context: path.join(__dirname, 'src'),
  mode: env.production ? 'production' : 'development',
  devtool: env.production ? 'source-map' : 'eval-source-map',
  entry: { module: './module.ts' },
  externals,
  module: {
    rules: [
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2015',
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'automatic' } },
            },
          },
        },
      },
    ],
  },
  output: {
    // Keep the Go executables that build-backend.js puts into dist/.
    clean: { keep: /(_(amd64|arm(64)?)(\.exe)?$|go_plugin_build_manifest)/ },
    filename: '[name].js',
    library: { type: 'amd' },
    path: DIST,
    publicPath: `public/plugins/${pluginJson.id}/`,
    uniqueName: pluginJson.id,
  },
  optimization: { minimize: Boolean(env.production) },
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        { from: 'plugin.json', to: '.', transform: fillIn },
        { from: 'img', to: 'img' },
        { from: '../README.md', to: '.', transform: fillIn },
        { from: '../CHANGELOG.md', to: '.' },
      ],
    }),
  ],
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx'],
    modules: [path.resolve(__dirname, 'src'), 'node_modules'],
  },
  performance: { hints: false },
});
