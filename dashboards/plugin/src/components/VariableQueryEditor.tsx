import React from 'react';
import { QueryEditorProps } from '@grafana/data';
import { InlineField, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { VARIABLES, ZonewatchOptions, ZonewatchQuery } from '../types';

type Props = QueryEditorProps<DataSource, ZonewatchQuery, ZonewatchOptions>;

/** A template variable lists the values of one of zonewatch's vocabularies. */
export function VariableQueryEditor({ query, onChange }: Props) {
  return (
    <InlineField label="Values of" labelWidth={16} tooltip="Zones, hosts and users are those your role may see">
      <Select
        inputId="zonewatch-variable"
        aria-label="Values of"
        width={24}
        options={VARIABLES}
        value={query.variable ?? 'zones'}
        onChange={(v) => onChange({ ...query, queryType: 'variable', variable: v.value })}
      />
    </InlineField>
  );
}
