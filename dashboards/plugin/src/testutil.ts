import { DataSourceInstanceSettings, PluginType } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { DataSource } from './datasource';
import { ZonewatchOptions } from './types';

// Test helpers. Grafana's TemplateSrv lives in the Grafana server's frontend, not in any npm package, so
// the tests use this small stand-in with the same contract for what the plugin uses: `$name`, `${name}`
// and `${name:format}` are replaced, a format function given by the caller formats the value (a string,
// or an array for a multi-value variable), an unknown variable is left as written.

type Format = (value: string | string[]) => string;

export function fakeTemplateSrv(vars: Record<string, string | string[]>): TemplateSrv {
  const replace = (target?: string, _scopedVars?: unknown, format?: string | Format): string => {
    if (!target) {
      return '';
    }
    return target.replace(/\$(\w+)|\$\{(\w+)(?::(\w+))?\}/g, (whole, a: string, b: string, explicit: string) => {
      const name = a ?? b;
      if (!(name in vars)) {
        return whole;
      }
      const value = vars[name];
      if (explicit === 'raw') {
        return Array.isArray(value) ? value.join(',') : value;
      }
      if (typeof format === 'function') {
        return format(value);
      }
      return Array.isArray(value) ? value.join(',') : value;
    });
  };
  return {
    replace,
    getVariables: () => [],
    containsTemplate: (t?: string) => !!t && /\$/.test(t),
    updateTimeRange: () => {},
  } as unknown as TemplateSrv;
}

export function instanceSettings(): DataSourceInstanceSettings<ZonewatchOptions> {
  return {
    id: 1,
    uid: 'zw-test',
    type: 'zonewatch-zonewatch-datasource',
    name: 'zonewatch',
    access: 'proxy',
    readOnly: false,
    jsonData: { address: '127.0.0.1:9000', database: 'zonewatch' },
    meta: {
      id: 'zonewatch-zonewatch-datasource',
      name: 'zonewatch',
      type: PluginType.datasource,
      module: '',
      baseUrl: '',
      info: {
        author: { name: 'zonewatch' },
        description: '',
        links: [],
        logos: { small: '', large: '' },
        screenshots: [],
        updated: '',
        version: '',
      },
    },
  };
}

export function newDataSource(vars: Record<string, string | string[]> = {}): DataSource {
  return new DataSource(instanceSettings(), fakeTemplateSrv(vars));
}
