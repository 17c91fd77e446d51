-- Input zonewatch could not make sense of (not syslog, cut at the length limit, undecodable on the bus),
-- kept whole with the reason and where it came from: nothing is dropped silently.
CREATE TABLE IF NOT EXISTS {{.Database}}.dead_letters
(
    id String,
    received DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    listener LowCardinality(String),
    peer String,
    reason String CODEC(ZSTD(1)),
    raw String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received)
ORDER BY (listener, received, id);
