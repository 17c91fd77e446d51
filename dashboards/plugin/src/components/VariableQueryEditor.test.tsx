import React from 'react';
import { DataQueryRequest, dateTime } from '@grafana/data';
import { fireEvent, render, screen } from '@testing-library/react';
import { of } from 'rxjs';

import { newDataSource } from '../testutil';
import { ZonewatchQuery } from '../types';
import { ZonewatchVariableSupport } from '../variables';
import { VariableQueryEditor } from './VariableQueryEditor';

describe('VariableQueryEditor', () => {
  test('defaults to zones; choosing hosts makes a variable query for hosts', async () => {
    const ds = newDataSource();
    const onChange = jest.fn();
    render(<VariableQueryEditor datasource={ds} query={{ refId: 'A' }} onChange={onChange} onRunQuery={jest.fn()} />);
    expect(screen.getByText('Zones')).toBeInTheDocument();
    fireEvent.keyDown(screen.getByLabelText('Values of'), { key: 'ArrowDown' });
    fireEvent.click(await screen.findByText('Hosts'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'variable', variable: 'hosts' });
  });
});

describe('variable support', () => {
  test('runs the saved variable query as a query of type variable', () => {
    const ds = newDataSource();
    const query = jest.spyOn(ds, 'query').mockReturnValue(of({ data: [] }));
    const range = { from: dateTime(0), to: dateTime(3600000), raw: { from: 'now-1h', to: 'now' } };
    const req = { targets: [{ refId: 'A', variable: 'users' }], range } as unknown as DataQueryRequest<ZonewatchQuery>;
    expect(ds.variables).toBeInstanceOf(ZonewatchVariableSupport);
    (ds.variables as ZonewatchVariableSupport).query(req);
    expect(query.mock.calls[0][0].targets).toEqual([{ refId: 'A', queryType: 'variable', variable: 'users' }]);
  });
});
