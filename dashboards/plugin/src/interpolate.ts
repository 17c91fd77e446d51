// Template variables go into a filter written in zonewatch's rule language (expr).
// A variable's value is data, never syntax: wherever it lands it becomes a literal, so a value such as
// `x" || true || "` cannot widen the filter. (The backend still enforces zone scopes whatever the filter
// says; this only keeps a dashboard's own queries meaning what they say.)
//
//   source.zone == $zone         → source.zone == "lgwan"
//   source.zone in $zones        → source.zone in ["lgwan", "internet"]   (multi-value or All)
//   destination.port == $port    → destination.port == 445                (a number stays a number)
//   url.domain endsWith "$dom"   → url.domain endsWith "example.jp"       (inside quotes: escaped, not quoted again)
//   host.name matches "^($h)$"   → host.name matches "^(a|b)$"            (multi-value inside quotes: joined by |)

/** Formats one variable's value; Grafana's TemplateSrv.replace calls it for every variable it replaces. */
export type VariableFormatter = (value: string | string[]) => string;

/** TemplateSrv.replace with the scoped variables already bound. */
export type ReplaceFn = (text: string, format: VariableFormatter) => string;

interface Segment {
  text: string;
  /** The quote character of a string literal, or '' for code outside literals. */
  quote: string;
}

const QUOTES = ['"', "'", '`'];

/** Splits an expr filter into code and string literals (quotes included in the literal's text). */
export function splitLiterals(filter: string): Segment[] {
  const out: Segment[] = [];
  let start = 0;
  let i = 0;
  while (i < filter.length) {
    const c = filter[i];
    if (!QUOTES.includes(c)) {
      i++;
      continue;
    }
    if (i > start) {
      out.push({ text: filter.slice(start, i), quote: '' });
    }
    let j = i + 1;
    while (j < filter.length && filter[j] !== c) {
      // Backquoted strings are raw in expr: no escapes.
      j += filter[j] === '\\' && c !== '`' ? 2 : 1;
    }
    j = Math.min(j + 1, filter.length); // an unterminated literal runs to the end; the backend reports it
    out.push({ text: filter.slice(i, j), quote: c });
    start = i = j;
  }
  if (start < filter.length) {
    out.push({ text: filter.slice(start), quote: '' });
  }
  return out;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** An expr literal for one value: a number as it is, anything else as a double-quoted, escaped string. */
export function exprLiteral(value: string): string {
  return NUMBER.test(value) ? value : JSON.stringify(value);
}

/** The value escaped for use inside an existing string literal quoted with `quote`. */
export function escapeInLiteral(value: string, quote: string): string {
  switch (quote) {
    case '"':
      return JSON.stringify(value).slice(1, -1);
    case "'":
      return value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n');
    default:
      // Raw (backquoted) strings have no escape for a backquote: drop it rather than end the literal.
      return value.replace(/`/g, '');
  }
}

function codeFormatter(value: string | string[]): string {
  return Array.isArray(value) ? `[${value.map(exprLiteral).join(', ')}]` : exprLiteral(value);
}

function literalFormatter(quote: string): VariableFormatter {
  return (value) => (Array.isArray(value) ? value : [value]).map((v) => escapeInLiteral(v, quote)).join('|');
}

/** Replaces template variables in an expr filter so that every value becomes a literal. */
export function interpolateFilter(filter: string, replace: ReplaceFn): string {
  return splitLiterals(filter)
    .map((s) => replace(s.text, s.quote ? literalFormatter(s.quote) : codeFormatter))
    .join('');
}

/** Replaces template variables in a plain value such as a field name, joining several values with commas. */
export function interpolatePlain(value: string | undefined, replace: ReplaceFn): string | undefined {
  if (!value) {
    return value;
  }
  return replace(value, (v) => (Array.isArray(v) ? v.join(',') : v));
}
