import { AdHocVariableFilter, DataQueryRequest, DataQueryResponse, dateTime } from '@grafana/data';
import { BackendSrv, GrafanaLiveSrv, setBackendSrv, setGrafanaLiveSrv } from '@grafana/runtime';
import { lastValueFrom, of, Subject } from 'rxjs';

import { splitLiterals } from './interpolate';
import { newDataSource } from './testutil';
import { ZonewatchQuery } from './types';

const vars = {
  zone: 'lgwan',
  zones: ['lgwan', 'internet'],
  port: '445',
  evil: 'x" || true || "',
  quote: "it's",
  dom: 'example.lg.jp',
  hosts: ['fs01', 'fs02'],
  field: 'source.zone',
};

describe('applyTemplateVariables', () => {
  const ds = newDataSource(vars);
  const apply = (filter: string) => ds.applyTemplateVariables({ refId: 'A', queryType: 'events', filter }, {}).filter;

  test.each([
    ['single value becomes a string literal', 'source.zone == $zone', 'source.zone == "lgwan"'],
    ['braced form too', 'source.zone == ${zone}', 'source.zone == "lgwan"'],
    ['multi-value becomes a list', 'source.zone in $zones', 'source.zone in ["lgwan", "internet"]'],
    ['a number stays a number', 'destination.port == $port', 'destination.port == 445'],
    ['quotes in a value cannot end the literal', 'user.name == $evil', 'user.name == "x\\" || true || \\""'],
    ['inside double quotes: escaped, not quoted again', 'url.domain endsWith "$dom"', 'url.domain endsWith "example.lg.jp"'],
    ['inside double quotes: a quote is escaped', 'user.name == "$evil"', 'user.name == "x\\" || true || \\""'],
    ['inside single quotes: a single quote is escaped', "user.name == '$quote'", "user.name == 'it\\'s'"],
    ['multi-value inside quotes joins with |', 'host.name matches "^($hosts)$"', 'host.name matches "^(fs01|fs02)$"'],
    ['a $ inside a literal that names no variable stays', 'url.path == "/$unknown"', 'url.path == "/$unknown"'],
    ['an unknown variable stays as written', 'source.zone == $nope', 'source.zone == $nope'],
    ['several variables, literals and code mixed', 'source.zone == $zone && url.domain == "$dom" && destination.port == $port', 'source.zone == "lgwan" && url.domain == "example.lg.jp" && destination.port == 445'],
    ['an empty filter stays empty', '', ''],
  ])('%s', (_name, filter, want) => {
    expect(apply(filter)).toBe(want);
  });

  test('group by and field take the plain value', () => {
    const q: ZonewatchQuery = { refId: 'A', queryType: 'topn', groupBy: '$field', field: '${field}', severity: '' };
    const out = ds.applyTemplateVariables(q, {});
    expect(out.groupBy).toBe('source.zone');
    expect(out.field).toBe('source.zone');
    expect(out.queryType).toBe('topn');
    expect(out.refId).toBe('A');
  });

  test('ad hoc filters go to the backend as key, operator, value; the filter is left alone', () => {
    const out = ds.applyTemplateVariables({ refId: 'A', queryType: 'events', filter: 'source.zone == $zone' }, {}, [
      { key: 'user.name', operator: '=', value: 'a" || true || "', keyLabel: 'user', valueLabels: ['x'] } as AdHocVariableFilter,
      { key: 'destination.port', operator: '>', value: '1024' },
    ]);
    expect(out.filter).toBe('source.zone == "lgwan"');
    expect(out.adhocFilters).toEqual([
      { key: 'user.name', operator: '=', value: 'a" || true || "' },
      { key: 'destination.port', operator: '>', value: '1024' },
    ]);
  });

  test('no ad hoc filters, no adhocFilters key', () => {
    expect(ds.applyTemplateVariables({ refId: 'A', queryType: 'events', filter: '' }, {}, []).adhocFilters).toBeUndefined();
  });

  test('variable queries get no ad hoc filters', () => {
    const out = ds.applyTemplateVariables({ refId: 'A', queryType: 'variable', variable: 'hosts', filter: '' }, {}, [
      { key: 'source.zone', operator: '=', value: 'lgwan' },
    ]);
    expect(out.filter).toBe('');
    expect(out.adhocFilters).toBeUndefined();
  });
});

describe('splitLiterals', () => {
  test('escaped quotes and backquoted raw strings', () => {
    expect(splitLiterals('a == "x\\"y" && b == `c\\` && d').map((s) => [s.text, s.quote])).toEqual([
      ['a == ', ''],
      ['"x\\"y"', '"'],
      [' && b == ', ''],
      ['`c\\`', '`'],
      [' && d', ''],
    ]);
  });

  test('an unterminated literal runs to the end', () => {
    expect(splitLiterals('a == "open')).toEqual([
      { text: 'a == ', quote: '' },
      { text: '"open', quote: '"' },
    ]);
  });
});

describe('resources', () => {
  // The backend is a separate process (Go, tested in pkg/plugin); here only the calls the frontend makes
  // are checked, so DataSourceWithBackend's resource methods are stubbed.
  test('validateFilter posts the filter to the validate resource', async () => {
    const ds = newDataSource();
    const post = jest.spyOn(ds, 'postResource').mockResolvedValue({ valid: true });
    await expect(ds.validateFilter('source.zone == "lgwan"')).resolves.toEqual({ valid: true });
    expect(post).toHaveBeenCalledWith('validate', { filter: 'source.zone == "lgwan"' });
  });

  test('ad hoc tag values come from the variables resource for known keys only', async () => {
    const ds = newDataSource();
    const get = jest.spyOn(ds, 'getResource').mockResolvedValue(['mynumber', 'lgwan', 'internet']);
    await expect(ds.getTagValues({ key: 'destination.zone' })).resolves.toEqual([
      { text: 'mynumber', value: 'mynumber' },
      { text: 'lgwan', value: 'lgwan' },
      { text: 'internet', value: 'internet' },
    ]);
    expect(get).toHaveBeenCalledWith('variables', { name: 'zones' });
    await expect(ds.getTagValues({ key: 'url.path' })).resolves.toEqual([]);
    expect(get).toHaveBeenCalledTimes(1);
  });

  test('ad hoc tag keys are the fields resource', async () => {
    const ds = newDataSource();
    jest.spyOn(ds, 'getResource').mockResolvedValue([
      { name: 'source.zone', type: 'string' },
      { name: 'destination.port', type: 'number' },
    ]);
    await expect(ds.getTagKeys()).resolves.toEqual([
      { text: 'source.zone', value: 'source.zone' },
      { text: 'destination.port', value: 'destination.port' },
    ]);
  });
});

describe('query', () => {
  // Grafana's backend service and Live service are singletons of the Grafana page; a unit test has no
  // Grafana server, so both are stand-ins that record what the data source sends to them.
  const range = { from: dateTime(1764115200000), to: dateTime(1764118800000), raw: { from: 'now-1h', to: 'now' } };

  function request(targets: ZonewatchQuery[]): DataQueryRequest<ZonewatchQuery> {
    return {
      requestId: 'r1',
      interval: '1m',
      intervalMs: 60000,
      range,
      scopedVars: {},
      targets,
      timezone: 'utc',
      app: 'dashboard',
      startTime: 0,
      filters: [{ key: 'source.zone', operator: '=', value: 'lgwan' }],
    };
  }

  function setup() {
    const fetch = jest.fn().mockReturnValue(of({ data: { results: { A: { status: 200, frames: [] } } }, status: 200, ok: true }));
    setBackendSrv({ fetch } as unknown as BackendSrv);
    const live = new Subject<DataQueryResponse>();
    const getDataStream = jest.fn().mockReturnValue(live);
    setGrafanaLiveSrv({ getDataStream } as unknown as GrafanaLiveSrv);
    return { fetch, getDataStream, live };
  }

  test('the backend gets the interpolated filter and the ad hoc filters', async () => {
    const { fetch, getDataStream } = setup();
    const ds = newDataSource({ zones: ['lgwan', 'internet'] });
    await lastValueFrom(ds.query(request([{ refId: 'A', queryType: 'events', filter: 'source.zone in $zones', limit: 10 }])));
    expect(fetch).toHaveBeenCalledTimes(1);
    const { url, data } = fetch.mock.calls[0][0];
    expect(url).toMatch(/^\/api\/ds\/query\?ds_type=zonewatch-zonewatch-datasource/);
    expect(data.queries).toHaveLength(1);
    expect(data.queries[0]).toMatchObject({
      refId: 'A',
      queryType: 'events',
      filter: 'source.zone in ["lgwan", "internet"]',
      limit: 10,
      adhocFilters: [{ key: 'source.zone', operator: '=', value: 'lgwan' }],
    });
    expect(getDataStream).not.toHaveBeenCalled();
  });

  test('a live alerts query also subscribes to the alerts channel of this data source', async () => {
    const { getDataStream, live } = setup();
    const ds = newDataSource();
    const seen: DataQueryResponse[] = [];
    const sub = ds.query(request([{ refId: 'A', queryType: 'alerts', alertStatus: 'open', stream: true }])).subscribe((r) => seen.push(r));
    expect(getDataStream).toHaveBeenCalledWith(
      expect.objectContaining({ addr: { scope: 'ds', stream: 'zw-test', path: 'alerts' }, key: 'zw-test/alerts/A' })
    );
    live.next({ key: 'zw-test/alerts/A', data: [{ name: 'new alert' }] });
    expect(seen.some((r) => r.key === 'zw-test/alerts/A')).toBe(true);
    expect(seen.some((r) => r.key !== 'zw-test/alerts/A')).toBe(true); // the backend's answer too
    sub.unsubscribe();
  });
});
