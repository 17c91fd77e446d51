import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { ZonewatchQuery } from './types';

/**
 * Template variables run as ordinary queries of type "variable": the backend answers with a frame of one
 * field of values, which Grafana turns into the variable's options.
 */
export class ZonewatchVariableSupport extends CustomVariableSupport<DataSource, ZonewatchQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<ZonewatchQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.map((t) => ({ ...t, queryType: 'variable' as const, variable: t.variable ?? 'zones' }));
    return this.datasource.query({ ...request, targets });
  }
}
