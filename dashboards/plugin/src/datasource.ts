import {
  AdHocVariableFilter,
  CoreApp,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  LiveChannelScope,
  MetricFindValue,
  ScopedVars,
} from '@grafana/data';
import { DataSourceWithBackend, getGrafanaLiveSrv, getTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { merge, Observable } from 'rxjs';

import { interpolateFilter, interpolatePlain, ReplaceFn } from './interpolate';
import { DEFAULT_QUERY, FieldInfo, ValidateResult, VariableName, ZonewatchOptions, ZonewatchQuery } from './types';
import { ZonewatchVariableSupport } from './variables';

/** Ad hoc filter keys whose values the backend's `variables` resource can list. */
const TAG_VALUE_SOURCES: Record<string, VariableName> = {
  'source.zone': 'zones',
  'destination.zone': 'zones',
  'observer.zone': 'zones',
  'host.name': 'hosts',
  'user.name': 'users',
  'rule.id': 'rules',
  severity: 'severities',
};

/** The live channel the backend's RunStream feeds with each new alert. */
export const ALERTS_CHANNEL = 'alerts';

export class DataSource extends DataSourceWithBackend<ZonewatchQuery, ZonewatchOptions> {
  constructor(
    instanceSettings: DataSourceInstanceSettings<ZonewatchOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.variables = new ZonewatchVariableSupport(this);
    // Annotations use the ordinary query editor; a new annotation query starts as "alerts of any status".
    this.annotations = {
      getDefaultQuery: () => ({ queryType: 'alerts', alertStatus: 'all', limit: 500 }),
    };
  }

  getDefaultQuery(_: CoreApp): Partial<ZonewatchQuery> {
    return DEFAULT_QUERY;
  }

  filterQuery(query: ZonewatchQuery): boolean {
    return !query.hide;
  }

  applyTemplateVariables(query: ZonewatchQuery, scopedVars: ScopedVars, filters?: AdHocVariableFilter[]): ZonewatchQuery {
    const replace: ReplaceFn = (text, format) => this.templateSrv.replace(text, scopedVars, format);
    // Ad hoc filters go to the backend as they are: it knows each field's type and quotes the value as
    // a literal of that type. A variable query lists values for the variable editor, unfiltered.
    const adhoc = query.queryType === 'variable' ? [] : (filters ?? []).map(({ key, operator, value }) => ({ key, operator, value }));
    return {
      ...query,
      filter: interpolateFilter(query.filter ?? '', replace),
      adhocFilters: adhoc.length > 0 ? adhoc : undefined,
      groupBy: interpolatePlain(query.groupBy, replace),
      field: interpolatePlain(query.field, replace),
      severity: interpolatePlain(query.severity, replace),
    };
  }

  /** The filter with the dashboard's current variable values, as the query editor's validation sees it. */
  interpolateFilter(filter: string, scopedVars?: ScopedVars): string {
    return interpolateFilter(filter, (text, format) => this.templateSrv.replace(text, scopedVars, format));
  }

  /** Alerts queries with `stream` also get the live alerts channel, merged in under a key of their own. */
  query(request: DataQueryRequest<ZonewatchQuery>): Observable<DataQueryResponse> {
    const streams = request.targets.filter((t) => !t.hide && t.queryType === 'alerts' && t.stream);
    const response = super.query(request);
    if (streams.length === 0) {
      return response;
    }
    return merge(response, ...streams.map((t) => this.alertStream(t.refId)));
  }

  /** New alerts as they are raised (Grafana Live, channel ds/<uid>/alerts). */
  alertStream(refId: string): Observable<DataQueryResponse> {
    return getGrafanaLiveSrv().getDataStream({
      key: `${this.uid}/${ALERTS_CHANNEL}/${refId}`,
      addr: { scope: LiveChannelScope.DataSource, stream: this.uid, path: ALERTS_CHANNEL },
      buffer: { maxLength: 1000 },
    });
  }

  /** Asks the backend whether a filter compiles, and where it does not. */
  validateFilter(filter: string): Promise<ValidateResult> {
    return this.postResource<ValidateResult>('validate', { filter });
  }

  /** The fields a filter or group-by may name. */
  getFields(): Promise<FieldInfo[]> {
    return this.getResource<FieldInfo[]>('fields');
  }

  /** Values of one of the backend's variables (zones, hosts, users, rules, severities). */
  getVariableValues(name: VariableName): Promise<string[]> {
    return this.getResource<string[]>('variables', { name });
  }

  // Ad hoc filters: keys from the fields resource, values where the backend has a list for the key.
  async getTagKeys(): Promise<MetricFindValue[]> {
    const fields = await this.getFields();
    return fields.map((f) => ({ text: f.name, value: f.name }));
  }

  async getTagValues(options: { key: string }): Promise<MetricFindValue[]> {
    const source = TAG_VALUE_SOURCES[options.key];
    if (!source) {
      return [];
    }
    const values = await this.getVariableValues(source);
    return values.map((v) => ({ text: v, value: v }));
  }
}
