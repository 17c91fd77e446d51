import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';

import { newDataSource } from '../testutil';
import { EXAMPLES, QueryHelp } from './QueryHelp';

describe('QueryHelp', () => {
  test('lists the examples; Use puts one into the query, keeping its refId', () => {
    const onClickExample = jest.fn();
    render(<QueryHelp datasource={newDataSource()} query={{ refId: 'B', queryType: 'events' }} onClickExample={onClickExample} />);
    for (const ex of EXAMPLES) {
      expect(screen.getByText(ex.title)).toBeInTheDocument();
    }
    fireEvent.click(screen.getAllByRole('button', { name: 'Use' })[0]);
    expect(onClickExample).toHaveBeenCalledWith({
      refId: 'B',
      queryType: 'events',
      filter: 'source.zone == "mynumber" && destination.zone != "mynumber"',
      limit: 100,
    });
  });
});
