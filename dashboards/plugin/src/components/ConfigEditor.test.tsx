import React, { useState } from 'react';
import { DataSourceSettings } from '@grafana/data';
import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { ZonewatchOptions, ZonewatchSecureOptions } from '../types';
import { ConfigEditor } from './ConfigEditor';

type Settings = DataSourceSettings<ZonewatchOptions, ZonewatchSecureOptions>;

function settings(jsonData: ZonewatchOptions = {}, secureJsonFields: Record<string, boolean> = {}): Settings {
  return {
    id: 1,
    uid: 'zw',
    orgId: 1,
    name: 'zonewatch',
    type: 'zonewatch-zonewatch-datasource',
    typeName: 'zonewatch',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData,
    secureJsonFields,
  };
}

/** Renders the editor inside a parent that keeps the settings, as Grafana's data source page does. */
function setup(initial: Settings) {
  const onOptionsChange = jest.fn();
  function Host() {
    const [options, setOptions] = useState(initial);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(o) => {
          onOptionsChange(o);
          setOptions(o);
        }}
      />
    );
  }
  render(<Host />);
  const last = (): Settings => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];
  return { onOptionsChange, last };
}

describe('ConfigEditor', () => {
  test('shows the saved connection settings, defaults as placeholders', () => {
    setup(settings({ address: 'ch.soc.local:9440', database: 'zw' }));
    expect(screen.getByLabelText('Address')).toHaveValue('ch.soc.local:9440');
    expect(screen.getByLabelText('Database')).toHaveValue('zw');
    expect(screen.getByLabelText('Username')).toHaveValue('');
    expect(screen.getByLabelText('Username')).toHaveAttribute('placeholder', 'default');
    // TLS certificates only once TLS is on.
    expect(screen.queryByLabelText('CA certificate')).not.toBeInTheDocument();
  });

  test('address, database and username go to jsonData', () => {
    const { last } = setup(settings());
    fireEvent.change(screen.getByLabelText('Address'), { target: { value: '10.0.0.5:9000' } });
    fireEvent.change(screen.getByLabelText('Database'), { target: { value: 'zonewatch' } });
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'grafana' } });
    expect(last().jsonData).toEqual({ address: '10.0.0.5:9000', database: 'zonewatch', username: 'grafana' });
    expect(last().secureJsonData).toBeUndefined();
  });

  test('the password goes to secureJsonData only', () => {
    const { last } = setup(settings({ address: 'a:9000' }));
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 's3cret' } });
    expect(last().secureJsonData).toEqual({ password: 's3cret' });
    expect(JSON.stringify(last().jsonData)).not.toContain('s3cret');
  });

  test('a configured password is not shown and can be reset', async () => {
    const { last } = setup(settings({}, { password: true }));
    expect(screen.getByLabelText('Password')).toHaveValue('configured');
    expect(screen.getByLabelText('Password')).toBeDisabled();
    await userEvent.click(screen.getAllByRole('button', { name: 'Reset' })[0]);
    expect(last().secureJsonFields.password).toBe(false);
    expect(last().secureJsonData).toEqual({ password: '' });
  });

  test('TLS: switch on, skip verification, certificates in secureJsonData', async () => {
    const { last } = setup(settings());
    await userEvent.click(screen.getByLabelText('Use TLS'));
    expect(last().jsonData.tls).toBe(true);
    await userEvent.click(screen.getByLabelText('Skip verification'));
    expect(last().jsonData).toEqual({ tls: true, tlsSkipVerify: true });
    fireEvent.change(screen.getByLabelText('CA certificate'), { target: { value: '-----BEGIN CERTIFICATE-----\nMIIB' } });
    fireEvent.change(screen.getByLabelText('Client key'), { target: { value: '-----BEGIN PRIVATE KEY-----\nMIIE' } });
    expect(last().secureJsonData).toEqual({
      tlsCACert: '-----BEGIN CERTIFICATE-----\nMIIB',
      tlsClientKey: '-----BEGIN PRIVATE KEY-----\nMIIE',
    });
    expect(JSON.stringify(last().jsonData)).not.toContain('BEGIN');
  });

  test('viewer zones default to lgwan and internet; ticking mynumber adds it in zone order', async () => {
    const { last } = setup(settings());
    expect(screen.getByLabelText('Viewer zones mynumber')).not.toBeChecked();
    expect(screen.getByLabelText('Viewer zones lgwan')).toBeChecked();
    expect(screen.getByLabelText('Viewer zones internet')).toBeChecked();
    await userEvent.click(screen.getByLabelText('Viewer zones mynumber'));
    expect(last().jsonData.viewerZones).toEqual(['mynumber', 'lgwan', 'internet']);
    await userEvent.click(screen.getByLabelText('Viewer zones lgwan'));
    expect(last().jsonData.viewerZones).toEqual(['mynumber', 'internet']);
  });

  test('role map: a Grafana role gets another zonewatch role', async () => {
    const { last } = setup(settings());
    const input = screen.getByLabelText('zonewatch role for Editor');
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    fireEvent.click(await screen.findByText('viewer', { selector: 'span' }));
    expect(last().jsonData.roleMap).toEqual({ Viewer: 'viewer', Editor: 'viewer', Admin: 'admin' });
  });

  test('zone scopes: add a team with its zones, then remove it', async () => {
    const { last } = setup(settings({ zoneScopes: { soc: ['mynumber', 'lgwan', 'internet'] } }));
    expect(screen.getByLabelText('Scope 1 login')).toHaveValue('soc');
    await userEvent.click(screen.getByRole('button', { name: 'Add scope' }));
    // A row without a name is not saved yet.
    expect(last().jsonData.zoneScopes).toEqual({ soc: ['mynumber', 'lgwan', 'internet'] });
    fireEvent.change(screen.getByLabelText('Scope 2 login'), { target: { value: 'lgwan-helpdesk' } });
    await userEvent.click(screen.getByLabelText('Scope 2 internet'));
    expect(last().jsonData.zoneScopes).toEqual({ soc: ['mynumber', 'lgwan', 'internet'], 'lgwan-helpdesk': ['lgwan'] });
    await userEvent.click(screen.getByLabelText('Remove scope 1'));
    expect(last().jsonData.zoneScopes).toEqual({ 'lgwan-helpdesk': ['lgwan'] });
  });

  test('live alerts interval is a number of seconds; empty means the default', () => {
    const { last } = setup(settings({ calendars: { office: {} } } as unknown as ZonewatchOptions));
    fireEvent.change(screen.getByLabelText('Live alerts every'), { target: { value: '15' } });
    expect(last().jsonData).toEqual({ calendars: { office: {} }, streamInterval: 15 });
    fireEvent.change(screen.getByLabelText('Live alerts every'), { target: { value: '' } });
    expect(last().jsonData.streamInterval).toBeUndefined();
  });
});
