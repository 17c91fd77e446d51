import React from 'react';
import { QueryEditorHelpProps } from '@grafana/data';
import { Button, Stack, Text } from '@grafana/ui';

import examples from '../examples.json';
import { ZonewatchQuery } from '../types';

export interface Example {
  title: string;
  query: Omit<ZonewatchQuery, 'refId'>;
}

// Questions the SOC asks every day, as queries, shown by Explore's query help; a click puts one into the
// editor. They live in examples.json so that a Go test (dashboards/plugin/test) can compile every filter
// and look up every field with zonewatch's own filter compiler.
export const EXAMPLES = examples as Example[];

export function QueryHelp({ query, onClickExample }: QueryEditorHelpProps<ZonewatchQuery>) {
  return (
    <Stack direction="column" gap={1}>
      <Text element="h4">Examples</Text>
      {EXAMPLES.map((ex) => (
        <Stack key={ex.title} direction="row" gap={2} alignItems="center">
          <Button size="sm" variant="secondary" onClick={() => onClickExample({ ...ex.query, refId: query.refId } as ZonewatchQuery)}>
            Use
          </Button>
          <Stack direction="column" gap={0}>
            <Text>{ex.title}</Text>
            {ex.query.filter && (
              <Text variant="code" color="secondary">
                {ex.query.filter}
              </Text>
            )}
          </Stack>
        </Stack>
      ))}
    </Stack>
  );
}
