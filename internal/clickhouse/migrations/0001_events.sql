-- Normalised events: a flat, snake_case mirror of the ECS-style event.
-- ReplacingMergeTree collapses re-delivered copies of an event (same id, same sorting key).
-- IPv4 addresses are stored as IPv4-mapped IPv6.
CREATE TABLE IF NOT EXISTS {{.Database}}.events
(
    id String CODEC(ZSTD(1)),
    timestamp DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    ingested DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    observer_host LowCardinality(String),
    observer_ip IPv6,
    observer_zone LowCardinality(String),
    listener LowCardinality(String),
    source_type LowCardinality(String),
    parse_status LowCardinality(String),
    parse_error String,
    category LowCardinality(String),
    action LowCardinality(String),
    outcome LowCardinality(String),
    severity UInt8,
    facility UInt8,
    source_ip IPv6,
    source_port UInt16,
    source_zone LowCardinality(String),
    source_host LowCardinality(String),
    destination_ip IPv6,
    destination_port UInt16,
    destination_zone LowCardinality(String),
    destination_host LowCardinality(String),
    cross_zone Bool,
    transport LowCardinality(String),
    app_protocol LowCardinality(String),
    user_name LowCardinality(String),
    url_domain LowCardinality(String),
    url_original String CODEC(ZSTD(3)),
    http_method LowCardinality(String),
    http_status UInt16,
    url_category LowCardinality(String),
    user_agent LowCardinality(String),
    bytes_out UInt64 CODEC(T64, ZSTD(1)),
    bytes_in UInt64 CODEC(T64, ZSTD(1)),
    process_name LowCardinality(String),
    message String CODEC(ZSTD(3)),
    raw String CODEC(ZSTD(3)),
    labels Map(LowCardinality(String), String),
    -- "Everything this user / this domain did" cuts across the sorting key: bloom filters let
    -- those searches skip granules that cannot hold the value.
    INDEX idx_user_name user_name TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_url_domain url_domain TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (source_zone, destination_zone, source_type, toStartOfHour(timestamp), source_ip, id);
