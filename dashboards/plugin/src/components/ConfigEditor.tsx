import React, { ChangeEvent, useState } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import {
  Button,
  Checkbox,
  FieldSet,
  IconButton,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  Input,
  SecretInput,
  SecretTextArea,
  Select,
  Stack,
} from '@grafana/ui';

import { DEFAULT_OPTIONS, ZONES, ZONEWATCH_ROLES, ZonewatchOptions, ZonewatchSecureOptions } from '../types';

type Props = DataSourcePluginOptionsEditorProps<ZonewatchOptions, ZonewatchSecureOptions>;
type SecureKey = keyof ZonewatchSecureOptions;

const LABEL_WIDTH = 22;
const GRAFANA_ROLES = ['Viewer', 'Editor', 'Admin'] as const;
const ROLE_OPTIONS = ZONEWATCH_ROLES.map((r) => ({ value: r, label: r }));

interface ScopeRow {
  name: string;
  zones: string[];
}

function toRows(scopes: Record<string, string[]> | undefined): ScopeRow[] {
  return Object.entries(scopes ?? {}).map(([name, zones]) => ({ name, zones: [...zones] }));
}

/** Rows without a name are kept on screen while being typed, but not saved. */
function toScopes(rows: ScopeRow[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of rows) {
    if (r.name.trim()) {
      out[r.name.trim()] = r.zones;
    }
  }
  return out;
}

function toggle(list: string[], item: string, on: boolean): string[] {
  const rest = list.filter((x) => x !== item);
  // Keep the zones in their canonical order whatever order they were ticked in.
  return on ? ZONES.filter((z) => z === item || rest.includes(z)) : rest;
}

function ZoneChecks({ label, zones, onChange }: { label: string; zones: string[]; onChange: (z: string[]) => void }) {
  return (
    // height 4 (32 px): level with the label beside it.
    <Stack direction="row" gap={2} alignItems="center" height={4}>
      {ZONES.map((z) => (
        <Checkbox
          key={z}
          label={z}
          aria-label={`${label} ${z}`}
          value={zones.includes(z)}
          onChange={(e: React.FormEvent<HTMLInputElement>) => onChange(toggle(zones, z, e.currentTarget.checked))}
        />
      ))}
    </Stack>
  );
}

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData ?? {};
  const secureFields = (options.secureJsonFields ?? {}) as Record<string, boolean>;
  const secure = (options.secureJsonData ?? {}) as ZonewatchSecureOptions;
  const [rows, setRows] = useState<ScopeRow[]>(() => toRows(jsonData.zoneScopes));

  const setJson = (patch: Partial<ZonewatchOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  const setSecure = (key: SecureKey, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secure, [key]: value } });

  const resetSecure = (key: SecureKey) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, [key]: false },
      secureJsonData: { ...secure, [key]: '' },
    });

  const text = (key: 'address' | 'database' | 'username') => ({
    value: jsonData[key] ?? '',
    placeholder: DEFAULT_OPTIONS[key],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setJson({ [key]: e.currentTarget.value }),
  });

  const secretText = (key: SecureKey, label: string) => (
    <InlineField label={label} labelWidth={LABEL_WIDTH} interactive tooltip="PEM; stored encrypted by Grafana">
      <SecretTextArea
        aria-label={label}
        cols={60}
        rows={4}
        isConfigured={!!secureFields[key]}
        value={secure[key] ?? ''}
        placeholder="-----BEGIN ..."
        onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecure(key, e.currentTarget.value)}
        onReset={() => resetSecure(key)}
      />
    </InlineField>
  );

  const roleMap = jsonData.roleMap ?? DEFAULT_OPTIONS.roleMap;
  const viewerZones = jsonData.viewerZones ?? DEFAULT_OPTIONS.viewerZones;

  const updateRows = (next: ScopeRow[]) => {
    setRows(next);
    setJson({ zoneScopes: toScopes(next) });
  };

  return (
    <>
      <FieldSet label="ClickHouse">
        <InlineField label="Address" labelWidth={LABEL_WIDTH} tooltip="ClickHouse native protocol, host:port">
          <Input aria-label="Address" width={40} {...text('address')} />
        </InlineField>
        <InlineField label="Database" labelWidth={LABEL_WIDTH}>
          <Input aria-label="Database" width={40} {...text('database')} />
        </InlineField>
        <InlineField label="Username" labelWidth={LABEL_WIDTH}>
          <Input aria-label="Username" width={40} {...text('username')} />
        </InlineField>
        <InlineField label="Password" labelWidth={LABEL_WIDTH} tooltip="Stored encrypted by Grafana, never sent back to the browser">
          <SecretInput
            aria-label="Password"
            width={40}
            isConfigured={!!secureFields.password}
            value={secure.password ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setSecure('password', e.currentTarget.value)}
            onReset={() => resetSecure('password')}
          />
        </InlineField>
      </FieldSet>

      <FieldSet label="TLS">
        <InlineField label="Use TLS" labelWidth={LABEL_WIDTH}>
          <InlineSwitch aria-label="Use TLS" value={!!jsonData.tls} onChange={(e) => setJson({ tls: e.currentTarget.checked })} />
        </InlineField>
        {jsonData.tls && (
          <>
            <InlineField label="Skip verification" labelWidth={LABEL_WIDTH} tooltip="Accept any server certificate: for tests only">
              <InlineSwitch
                aria-label="Skip verification"
                value={!!jsonData.tlsSkipVerify}
                onChange={(e) => setJson({ tlsSkipVerify: e.currentTarget.checked })}
              />
            </InlineField>
            {secretText('tlsCACert', 'CA certificate')}
            {secretText('tlsClientCert', 'Client certificate')}
            {secretText('tlsClientKey', 'Client key')}
          </>
        )}
      </FieldSet>

      <FieldSet label="Access">
        <InlineFieldRow>
          {GRAFANA_ROLES.map((role) => (
            <InlineField key={role} label={`Grafana ${role}`} labelWidth={16} tooltip="The zonewatch role this Grafana role gets">
              <Select
                inputId={`zonewatch-role-${role}`}
                aria-label={`zonewatch role for ${role}`}
                width={14}
                options={ROLE_OPTIONS}
                value={roleMap[role] ?? DEFAULT_OPTIONS.roleMap[role]}
                onChange={(v) => setJson({ roleMap: { ...roleMap, [role]: v.value ?? '' } })}
              />
            </InlineField>
          ))}
        </InlineFieldRow>
        <InlineField
          label="Viewer zones"
          labelWidth={LABEL_WIDTH}
          tooltip="Zones a Viewer without a scope of their own sees; mynumber only when policy allows it"
        >
          <ZoneChecks label="Viewer zones" zones={viewerZones} onChange={(z) => setJson({ viewerZones: z })} />
        </InlineField>
        <InlineField
          label="Zone scopes"
          labelWidth={LABEL_WIDTH}
          tooltip="A Grafana login and the zones it may see, instead of the viewer zones; Admins see every zone"
        >
          <Stack direction="column" gap={1}>
            {rows.map((row, i) => (
              <Stack key={i} direction="row" gap={2} alignItems="center">
                <Input
                  aria-label={`Scope ${i + 1} login`}
                  width={24}
                  placeholder="Grafana login"
                  value={row.name}
                  onChange={(e: ChangeEvent<HTMLInputElement>) =>
                    updateRows(rows.map((r, j) => (j === i ? { ...r, name: e.currentTarget.value } : r)))
                  }
                />
                <ZoneChecks
                  label={`Scope ${i + 1}`}
                  zones={row.zones}
                  onChange={(z) => updateRows(rows.map((r, j) => (j === i ? { ...r, zones: z } : r)))}
                />
                <IconButton name="trash-alt" aria-label={`Remove scope ${i + 1}`} onClick={() => updateRows(rows.filter((_, j) => j !== i))} />
              </Stack>
            ))}
            <div>
              <Button variant="secondary" size="sm" icon="plus" onClick={() => updateRows([...rows, { name: '', zones: ['lgwan', 'internet'] }])}>
                Add scope
              </Button>
            </div>
          </Stack>
        </InlineField>
        <InlineField label="Live alerts every" labelWidth={LABEL_WIDTH} tooltip="Seconds between checks for new alerts (Live alerts queries)">
          <Input
            aria-label="Live alerts every"
            type="number"
            min={1}
            width={10}
            suffix="s"
            placeholder="5"
            value={jsonData.streamInterval ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => {
              const n = parseInt(e.currentTarget.value, 10);
              setJson({ streamInterval: Number.isFinite(n) && n > 0 ? n : undefined });
            }}
          />
        </InlineField>
      </FieldSet>
    </>
  );
}
