import React, { ChangeEvent, useEffect, useMemo, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import {
  Field,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  Input,
  MultiSelect,
  RadioButtonGroup,
  Select,
  Stack,
  TextArea,
} from '@grafana/ui';

import { DataSource } from '../datasource';
import {
  AGGREGATIONS,
  ALERT_STATUSES,
  AlertStatus,
  Aggregation,
  DEFAULT_QUERY,
  FieldInfo,
  HEALTH_VIEWS,
  HealthView,
  OFF_HOURS_BY,
  OffHoursBy,
  QUERY_TYPE_INFO,
  QUERY_TYPES,
  QueryType,
  SERIES_FORMATS,
  SEVERITIES,
  SeriesFormat,
  ValidateResult,
  ZonewatchOptions,
  ZonewatchQuery,
} from '../types';

type Props = QueryEditorProps<DataSource, ZonewatchQuery, ZonewatchOptions>;

/** How long the filter must stay unchanged before the backend is asked to check it. */
export const VALIDATE_DELAY_MS = 400;

const LABEL_WIDTH = 16;

const FILTER_PLACEHOLDER = 'source.zone == "mynumber" && destination.zone != "mynumber"';

/** The fields the backend knows, loaded once per editor; empty (and free text allowed) if the call fails. */
function useFields(datasource: DataSource): FieldInfo[] {
  const [fields, setFields] = useState<FieldInfo[]>([]);
  useEffect(() => {
    let live = true;
    datasource.getFields().then(
      (f) => live && setFields(Array.isArray(f) ? f : []),
      () => live && setFields([])
    );
    return () => {
      live = false;
    };
  }, [datasource]);
  return fields;
}

export type Validation = ValidateResult | { valid: true; unchecked: string };

/**
 * The backend's verdict on the filter, asked for VALIDATE_DELAY_MS after the last keystroke; an answer
 * to an older filter is dropped. Template variables are replaced first, as they are when the query runs.
 */
function useFilterValidation(datasource: DataSource, filter: string): Validation | undefined {
  const [result, setResult] = useState<Validation>();
  useEffect(() => {
    if (!filter.trim()) {
      setResult(undefined);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      datasource.validateFilter(datasource.interpolateFilter(filter)).then(
        (r) => live && setResult(r),
        (err) => live && setResult({ valid: true, unchecked: errorText(err) })
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [datasource, filter]);
  return result;
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { data?: { message?: string }; message?: string; statusText?: string };
    return e.data?.message ?? e.message ?? e.statusText ?? 'unknown error';
  }
  return String(err);
}

/** "line 1, column 12: unknown name sourze.zone" */
export function validationMessage(v: ValidateResult): string {
  const where = v.line ? `line ${v.line}${v.column ? `, column ${v.column}` : ''}: ` : '';
  return `${where}${v.message ?? 'invalid filter'}`;
}

function fieldOptions(fields: FieldInfo[], current?: string): Array<SelectableValue<string>> {
  const opts = fields.map((f) => ({ value: f.name, label: f.name, description: f.type }));
  if (current && !fields.some((f) => f.name === current)) {
    opts.unshift({ value: current, label: current, description: 'not in the field list' });
  }
  return opts;
}

export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const q = { ...DEFAULT_QUERY, ...query };
  const queryType: QueryType = q.queryType ?? 'events';
  const info = QUERY_TYPE_INFO[queryType] ?? QUERY_TYPE_INFO.events;
  const fields = useFields(datasource);
  const validation = useFilterValidation(datasource, info.filter ? q.filter ?? '' : '');
  const [limit, setLimit] = useState(String(q.limit ?? ''));
  useEffect(() => setLimit(String(q.limit ?? '')), [q.limit]);

  const groupByOptions = useMemo(() => fieldOptions(fields, q.groupBy), [fields, q.groupBy]);
  const aggFieldOptions = useMemo(() => fieldOptions(fields, q.field), [fields, q.field]);

  const change = (patch: Partial<ZonewatchQuery>, run = true) => {
    onChange({ ...query, ...patch });
    if (run) {
      onRunQuery();
    }
  };

  const commitLimit = () => {
    const n = parseInt(limit, 10);
    if (Number.isFinite(n) && n > 0 && n !== q.limit) {
      change({ limit: n });
    } else {
      setLimit(String(q.limit ?? ''));
    }
  };

  const invalid = validation !== undefined && !validation.valid;
  const unchecked = validation && 'unchecked' in validation ? validation.unchecked : undefined;

  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH} tooltip="What to show: each type fits a kind of panel">
          <Select
            inputId="zonewatch-query-type"
            aria-label="Query type"
            width={32}
            options={QUERY_TYPES}
            value={queryType}
            onChange={(v) => change({ queryType: v.value })}
          />
        </InlineField>
        {info.limit && (
          <InlineField label="Limit" labelWidth={8} tooltip="At most this many rows">
            <Input
              aria-label="Limit"
              type="number"
              min={1}
              width={10}
              value={limit}
              onChange={(e: ChangeEvent<HTMLInputElement>) => setLimit(e.currentTarget.value)}
              onBlur={commitLimit}
            />
          </InlineField>
        )}
      </InlineFieldRow>

      {info.filter && (
        <Field
          label="Filter"
          description="In zonewatch's rule language; empty for everything. Variables: source.zone == $zone, source.zone in $zones"
          invalid={invalid}
          error={invalid ? validationMessage(validation as ValidateResult) : undefined}
        >
          <TextArea
            aria-label="Filter"
            rows={2}
            placeholder={FILTER_PLACEHOLDER}
            value={q.filter ?? ''}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => change({ filter: e.currentTarget.value }, false)}
            onBlur={() => onRunQuery()}
          />
        </Field>
      )}
      {unchecked && <div data-testid="zonewatch-filter-unchecked">Filter not checked: {unchecked}</div>}

      {(info.groupBy || info.aggregation) && (
        <InlineFieldRow>
          {info.groupBy && (
            <InlineField label="Group by" labelWidth={LABEL_WIDTH} tooltip="One series (or row) per value of this field">
              <Select
                inputId="zonewatch-group-by"
                aria-label="Group by"
                width={32}
                isClearable
                allowCustomValue
                placeholder="(no grouping)"
                options={groupByOptions}
                value={q.groupBy || null}
                onChange={(v) => change({ groupBy: v?.value ?? '' })}
              />
            </InlineField>
          )}
          {info.aggregation && (
            <InlineField label="Aggregation" labelWidth={12}>
              <RadioButtonGroup<Aggregation>
                aria-label="Aggregation"
                options={AGGREGATIONS}
                value={q.aggregation ?? 'count'}
                onChange={(v) => change({ aggregation: v })}
              />
            </InlineField>
          )}
          {info.aggregation && q.aggregation && q.aggregation !== 'count' && (
            <InlineField label="Of field" labelWidth={10} tooltip="The field counted distinctly or summed">
              <Select
                inputId="zonewatch-agg-field"
                aria-label="Of field"
                width={28}
                allowCustomValue
                options={aggFieldOptions}
                value={q.field || null}
                onChange={(v) => change({ field: v?.value ?? '' })}
              />
            </InlineField>
          )}
        </InlineFieldRow>
      )}

      {info.format && (
        <InlineField label="Series" labelWidth={LABEL_WIDTH} tooltip="Wide suits time series panels; long suits tables and transformations">
          <RadioButtonGroup<SeriesFormat>
            aria-label="Series format"
            options={SERIES_FORMATS}
            value={q.format ?? 'wide'}
            onChange={(v) => change({ format: v })}
          />
        </InlineField>
      )}

      {info.health && (
        <InlineField label="Show" labelWidth={LABEL_WIDTH} tooltip="Which part of the pipeline's health">
          <RadioButtonGroup<HealthView>
            aria-label="Health view"
            options={HEALTH_VIEWS}
            value={q.healthView ?? 'sources'}
            onChange={(v) => change({ healthView: v })}
          />
        </InlineField>
      )}

      {info.offHoursBy && (
        <InlineField label="Per" labelWidth={LABEL_WIDTH} tooltip="Who is counted outside office hours">
          <RadioButtonGroup<OffHoursBy>
            aria-label="Off-hours per"
            options={OFF_HOURS_BY}
            value={q.offHoursBy ?? 'user'}
            onChange={(v) => change({ offHoursBy: v })}
          />
        </InlineField>
      )}

      {info.alert && (
        <InlineFieldRow>
          <InlineField label="Status" labelWidth={LABEL_WIDTH}>
            <RadioButtonGroup<AlertStatus>
              aria-label="Alert status"
              options={ALERT_STATUSES}
              value={q.alertStatus ?? 'open'}
              onChange={(v) => change({ alertStatus: v })}
            />
          </InlineField>
          <InlineField label="Severity" labelWidth={10} tooltip="Empty for every severity">
            <MultiSelect<string>
              inputId="zonewatch-severity"
              aria-label="Severity"
              width={40}
              placeholder="any"
              options={SEVERITIES}
              value={(q.severity ?? '').split(',').filter(Boolean)}
              // The backend takes a comma-separated list.
              onChange={(v) => change({ severity: v.map((o) => o.value).filter(Boolean).join(',') })}
            />
          </InlineField>
          <InlineField label="Live" labelWidth={8} tooltip="Add new alerts as they are raised, without refreshing">
            <InlineSwitch aria-label="Live" value={!!q.stream} onChange={(e) => change({ stream: e.currentTarget.checked })} />
          </InlineField>
        </InlineFieldRow>
      )}
    </Stack>
  );
}
