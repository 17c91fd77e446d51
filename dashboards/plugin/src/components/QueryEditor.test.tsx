import React, { useState } from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { DataSource } from '../datasource';
import { newDataSource } from '../testutil';
import { ZonewatchQuery } from '../types';
import { QueryEditor, VALIDATE_DELAY_MS } from './QueryEditor';

// The backend (validate and fields resources) is a separate Go process with tests of its own
// (pkg/plugin); here its answers are stubbed on the data source's resource methods, which is all the
// editor talks to.
const FIELDS = [
  { name: 'source.zone', type: 'string' },
  { name: 'destination.zone', type: 'string' },
  { name: 'user.name', type: 'string' },
];

function setup(initial: ZonewatchQuery, opts: { validate?: jest.Mock; vars?: Record<string, string | string[]> } = {}) {
  const ds = newDataSource(opts.vars);
  const validate = opts.validate ?? jest.fn().mockResolvedValue({ valid: true });
  jest.spyOn(ds, 'postResource').mockImplementation((path: string, body?: unknown) => {
    if (path !== 'validate') {
      return Promise.reject(new Error(`unexpected resource ${path}`));
    }
    return validate(body);
  });
  jest.spyOn(ds, 'getResource').mockImplementation((path: string) =>
    path === 'fields' ? Promise.resolve(FIELDS) : Promise.reject(new Error(`unexpected resource ${path}`))
  );
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  // A parent that keeps the query, as Grafana's panel editor does.
  function Host() {
    const [query, setQuery] = useState(initial);
    return (
      <QueryEditor
        datasource={ds as DataSource}
        query={query}
        onChange={(q) => {
          onChange(q);
          setQuery(q);
        }}
        onRunQuery={onRunQuery}
      />
    );
  }
  return { ds, validate, onChange, onRunQuery, Host };
}

/** Renders and lets the fields resource answer, so the editor is settled before the test acts. */
async function renderEditor(...args: Parameters<typeof setup>) {
  const s = setup(...args);
  await act(async () => {
    render(<s.Host />);
  });
  return s;
}

async function choose(label: string, option: string) {
  const input = screen.getByLabelText(label);
  fireEvent.keyDown(input, { key: 'ArrowDown' });
  fireEvent.click(await screen.findByText(option));
}

describe('QueryEditor', () => {
  test('an events query shows query type, filter and limit, and nothing for other types', async () => {
    await renderEditor({ refId: 'A', queryType: 'events', filter: 'source.zone == "lgwan"', limit: 50 });
    expect(screen.getByText('Events')).toBeInTheDocument();
    expect(screen.getByLabelText('Filter')).toHaveValue('source.zone == "lgwan"');
    expect(screen.getByLabelText('Limit')).toHaveValue(50);
    expect(screen.queryByLabelText('Group by')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Alert status')).not.toBeInTheDocument();
  });

  test('choosing a query type calls onChange with that type and runs the query', async () => {
    const { onChange, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'events', filter: 'x == 1' });
    await choose('Query type', 'Counts over time');
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'timeseries', filter: 'x == 1' });
    expect(onRunQuery).toHaveBeenCalled();
    expect(await screen.findByLabelText('Group by')).toBeInTheDocument();
    expect(screen.getByLabelText('Limit')).toBeInTheDocument(); // number of series
  });

  test('typing a filter updates the model; leaving the field runs the query', async () => {
    const { onChange, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'events', filter: '' });
    const filter = screen.getByLabelText('Filter');
    fireEvent.change(filter, { target: { value: 'user.name == "tanaka"' } });
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'events', filter: 'user.name == "tanaka"' });
    expect(onRunQuery).not.toHaveBeenCalled();
    fireEvent.blur(filter);
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  test('the backend validation message is shown with line and column, once typing has paused', async () => {
    jest.useFakeTimers();
    try {
      const validate = jest.fn().mockImplementation(({ filter }: { filter: string }) =>
        Promise.resolve(
          filter.includes('sourze')
            ? { valid: false, message: 'unknown name sourze (did you mean source?)', line: 1, column: 1 }
            : { valid: true }
        )
      );
      await renderEditor({ refId: 'A', queryType: 'events', filter: '' }, { validate });
      const filter = screen.getByLabelText('Filter');
      for (const v of ['s', 'sourze', 'sourze.zone == "lgwan"']) {
        fireEvent.change(filter, { target: { value: v } });
        act(() => jest.advanceTimersByTime(VALIDATE_DELAY_MS / 4));
      }
      expect(validate).not.toHaveBeenCalled(); // still typing
      await act(async () => {
        jest.advanceTimersByTime(VALIDATE_DELAY_MS);
      });
      expect(validate).toHaveBeenCalledTimes(1);
      expect(validate).toHaveBeenCalledWith({ filter: 'sourze.zone == "lgwan"' });
      expect(screen.getByText('line 1, column 1: unknown name sourze (did you mean source?)')).toBeInTheDocument();

      fireEvent.change(filter, { target: { value: 'source.zone == "lgwan"' } });
      await act(async () => {
        jest.advanceTimersByTime(VALIDATE_DELAY_MS);
      });
      expect(validate).toHaveBeenCalledTimes(2);
      expect(screen.queryByText(/unknown name sourze/)).not.toBeInTheDocument();
    } finally {
      jest.useRealTimers();
    }
  });

  test('template variables are replaced before the filter is validated', async () => {
    const validate = jest.fn().mockResolvedValue({ valid: true });
    await renderEditor({ refId: 'A', queryType: 'events', filter: 'source.zone in $zones' }, { validate, vars: { zones: ['lgwan', 'internet'] } });
    await waitFor(() => expect(validate).toHaveBeenCalledWith({ filter: 'source.zone in ["lgwan", "internet"]' }));
  });

  test('a validation call that fails says the filter was not checked', async () => {
    const validate = jest.fn().mockRejectedValue({ status: 502, data: { message: 'plugin unavailable' } });
    await renderEditor({ refId: 'A', queryType: 'events', filter: 'a == 1' }, { validate });
    expect(await screen.findByText('Filter not checked: plugin unavailable')).toBeInTheDocument();
  });

  test('group by offers the fields from the backend', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'timeseries', filter: '' });
    await choose('Group by', 'destination.zone');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'timeseries', groupBy: 'destination.zone' }));
  });

  test('count distinct asks for the field it counts', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'topn', groupBy: 'source.zone' });
    expect(screen.queryByLabelText('Of field')).not.toBeInTheDocument();
    await userEvent.click(screen.getByText('Count distinct'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ aggregation: 'count_distinct' }));
    await choose('Of field', 'user.name');
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ queryType: 'topn', groupBy: 'source.zone', aggregation: 'count_distinct', field: 'user.name' })
    );
  });

  test('alerts: status, severity, live and limit; no filter (the backend refuses one)', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'alerts', limit: 100 });
    expect(screen.queryByLabelText('Filter')).not.toBeInTheDocument();
    await userEvent.click(screen.getByText('Resolved'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ alertStatus: 'resolved' }));
    await choose('Severity', 'Critical');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ alertStatus: 'resolved', severity: 'critical' }));
    await choose('Severity', 'High');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ severity: 'critical,high' }));
    await userEvent.click(screen.getByLabelText('Live'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ stream: true }));
    const limit = screen.getByLabelText('Limit');
    fireEvent.change(limit, { target: { value: '25' } });
    fireEvent.blur(limit);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ limit: 25, severity: 'critical,high' }));
  });

  test('a limit that is not a positive number is put back', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'events', limit: 100 });
    const limit = screen.getByLabelText('Limit');
    fireEvent.change(limit, { target: { value: '-3' } });
    fireEvent.blur(limit);
    expect(onChange).not.toHaveBeenCalled();
    expect(limit).toHaveValue(100);
  });

  test('off-hours: per user or host', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'offhours' });
    await userEvent.click(screen.getByText('Host'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'offhours', offHoursBy: 'host' }));
  });

  test('pipeline health: which view, and no filter', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'health' });
    expect(screen.queryByLabelText('Filter')).not.toBeInTheDocument();
    await userEvent.click(screen.getByText('Dead letters'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'health', healthView: 'dead_letters' });
  });

  test('counts over time: long format', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'timeseries', groupBy: 'source.zone' });
    await userEvent.click(screen.getByText('Long'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'timeseries', groupBy: 'source.zone', format: 'long' });
  });
});
