import { DataSourceJsonData, SelectableValue } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

// The query model is the contract with the Go backend (dashboards/plugin/pkg/plugin): every key here is
// read there from the query's JSON. `stream` is the one key the backend ignores: the frontend uses it to
// add the live alerts channel to an alerts query.

export type QueryType = 'events' | 'timeseries' | 'topn' | 'zonepairs' | 'offhours' | 'alerts' | 'health' | 'variable';
export type Aggregation = 'count' | 'count_distinct' | 'sum';
export type OffHoursBy = 'user' | 'host';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved' | 'all';
export type VariableName = 'zones' | 'hosts' | 'users' | 'rules' | 'severities';
export type HealthView = 'sources' | 'dead_letters' | 'lag';
export type SeriesFormat = 'wide' | 'long';

/** One of Grafana's ad hoc filters; the backend turns it into a condition typed by the field. */
export interface AdhocFilter {
  key: string;
  operator: string;
  value: string;
}

export interface ZonewatchQuery extends DataQuery {
  queryType?: QueryType;
  /** A filter in zonewatch's rule language (expr), e.g. `source.zone == "mynumber" && event.outcome == "failure"`. */
  filter?: string;
  /** An ECS field to group by, e.g. `source.zone`. */
  groupBy?: string;
  aggregation?: Aggregation;
  /** The ECS field that count_distinct and sum aggregate. */
  field?: string;
  limit?: number;
  offHoursBy?: OffHoursBy;
  alertStatus?: AlertStatus;
  /** Alert severities, comma-separated (info, low, medium, high, critical); empty for all. */
  severity?: string;
  variable?: VariableName;
  /** Health: which table (per log source, dead letters, consumer lag); sources when empty. */
  healthView?: HealthView;
  /** Counts over time: one field per group (wide, the default) or one row per bucket and group (long). */
  format?: SeriesFormat;
  /** Set by applyTemplateVariables from the dashboard's ad hoc filters; not saved with the panel. */
  adhocFilters?: AdhocFilter[];
  /** Frontend only: also subscribe to the live `alerts` channel (alerts queries). */
  stream?: boolean;
}

export const DEFAULT_QUERY: Partial<ZonewatchQuery> = {
  queryType: 'events',
  filter: '',
  limit: 100,
};

/** What each query type shows in the editor; the rest of the model is left as it is but unused. */
export interface QueryTypeInfo {
  filter: boolean;
  groupBy: boolean;
  aggregation: boolean;
  limit: boolean;
  offHoursBy: boolean;
  alert: boolean;
  health: boolean;
  format: boolean;
}

const none: QueryTypeInfo = { filter: false, groupBy: false, aggregation: false, limit: false, offHoursBy: false, alert: false, health: false, format: false };

export const QUERY_TYPE_INFO: Record<QueryType, QueryTypeInfo> = {
  events: { ...none, filter: true, limit: true },
  timeseries: { ...none, filter: true, groupBy: true, aggregation: true, format: true, limit: true },
  topn: { ...none, filter: true, groupBy: true, aggregation: true, limit: true },
  zonepairs: { ...none, filter: true },
  offhours: { ...none, filter: true, offHoursBy: true, limit: true },
  // The backend refuses a filter on alerts and health: they are not events.
  alerts: { ...none, limit: true, alert: true },
  health: { ...none, health: true },
  variable: none,
};

export const QUERY_TYPES: Array<SelectableValue<QueryType>> = [
  { value: 'events', label: 'Events', description: 'Matching events as logs, newest first' },
  { value: 'timeseries', label: 'Counts over time', description: 'Events per time bucket, optionally one series per group' },
  { value: 'topn', label: 'Top N', description: 'The most frequent values of a field' },
  { value: 'zonepairs', label: 'Zone pairs', description: 'Source zone × destination zone matrix' },
  { value: 'offhours', label: 'Off-hours access', description: 'Users or hosts active outside office hours' },
  { value: 'alerts', label: 'Alerts', description: 'Alerts raised by the rule engine' },
  { value: 'health', label: 'Pipeline health', description: 'Ingest rate, lag and silence per log source' },
];

export const AGGREGATIONS: Array<SelectableValue<Aggregation>> = [
  { value: 'count', label: 'Count', description: 'Number of events' },
  { value: 'count_distinct', label: 'Count distinct', description: 'Number of distinct values of a field' },
  { value: 'sum', label: 'Sum', description: 'Sum of a numeric field' },
];

export const OFF_HOURS_BY: Array<SelectableValue<OffHoursBy>> = [
  { value: 'user', label: 'User' },
  { value: 'host', label: 'Host' },
];

export const ALERT_STATUSES: Array<SelectableValue<AlertStatus>> = [
  { value: 'open', label: 'Open' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'all', label: 'All' },
];

export const SEVERITIES: Array<SelectableValue<string>> = [
  { value: 'critical', label: 'Critical' },
  { value: 'high', label: 'High' },
  { value: 'medium', label: 'Medium' },
  { value: 'low', label: 'Low' },
  { value: 'info', label: 'Info' },
];

export const HEALTH_VIEWS: Array<SelectableValue<HealthView>> = [
  { value: 'sources', label: 'Log sources', description: 'Events per source, last seen, silent sources' },
  { value: 'dead_letters', label: 'Dead letters', description: 'Messages kept whole because they could not be read' },
  { value: 'lag', label: 'Lag', description: 'How far the writer and rules consumers are behind' },
];

export const SERIES_FORMATS: Array<SelectableValue<SeriesFormat>> = [
  { value: 'wide', label: 'Wide', description: 'One field per group' },
  { value: 'long', label: 'Long', description: 'One row per bucket and group' },
];

export const VARIABLES: Array<SelectableValue<VariableName>> = [
  { value: 'zones', label: 'Zones' },
  { value: 'hosts', label: 'Hosts' },
  { value: 'users', label: 'Users' },
  { value: 'rules', label: 'Rules' },
  { value: 'severities', label: 'Severities' },
];

export const ZONES = ['mynumber', 'lgwan', 'internet'] as const;
export const ZONEWATCH_ROLES = ['viewer', 'analyst', 'admin'] as const;

/** jsonData of the data source. */
export interface ZonewatchOptions extends DataSourceJsonData {
  /** ClickHouse native address, host:port. */
  address?: string;
  database?: string;
  username?: string;
  tls?: boolean;
  tlsSkipVerify?: boolean;
  /** Grafana role (Viewer, Editor, Admin) → zonewatch role (viewer, analyst, admin). */
  roleMap?: Record<string, string>;
  /** Grafana login → the zones it may see (the contract allows team names; Grafana passes no teams to plugins). */
  zoneScopes?: Record<string, string[]>;
  /** Zones a Viewer without a scope of its own sees. */
  viewerZones?: string[];
  /** Seconds between the backend's polls of the alerts table for the live stream (default 5). */
  streamInterval?: number;
}

/** secureJsonData of the data source: write-only, Grafana never sends it back to the browser. */
export interface ZonewatchSecureOptions {
  password?: string;
  tlsCACert?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
}

export const DEFAULT_OPTIONS: Required<Pick<ZonewatchOptions, 'address' | 'database' | 'username' | 'roleMap' | 'viewerZones'>> = {
  address: '127.0.0.1:9000',
  database: 'zonewatch',
  username: 'default',
  roleMap: { Viewer: 'viewer', Editor: 'analyst', Admin: 'admin' },
  viewerZones: ['lgwan', 'internet'],
};

/** Answer of the backend's `validate` resource. */
export interface ValidateResult {
  valid: boolean;
  message?: string;
  line?: number;
  column?: number;
}

/** One entry of the backend's `fields` resource. */
export interface FieldInfo {
  name: string;
  type: string;
}
