-- query/api: one row per request to the query API (who, when, what, how many rows, the answer's
-- status), written before the answer is sent; a query whose audit row cannot be written is refused.
CREATE TABLE IF NOT EXISTS {{.Database}}.audit
(
    time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    request_id String,
    principal LowCardinality(String),
    token_id LowCardinality(String),
    role LowCardinality(String),
    zones Array(LowCardinality(String)),
    endpoint LowCardinality(String),
    filter String CODEC(ZSTD(3)),
    request String CODEC(ZSTD(3)),
    rows UInt64,
    status UInt16,
    error String,
    duration_ms UInt32,
    remote String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (time, principal);
