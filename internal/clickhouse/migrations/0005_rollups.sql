-- Rollups: materialised views that aggregate every insert into events into small tables that
-- dashboards and the monthly report read instead of the raw rows. Each view only sees rows inserted
-- after it was created. Targets merge in the background: always read them with sum()/max() and
-- GROUP BY, never row by row. All are partitioned by month, so retention drops whole months.
-- The writer inserts with deduplicate_blocks_in_dependent_materialized_views = 1 and a token: a batch
-- that events drops as a repeat is dropped here too (non_replicated_deduplication_window).

-- Traffic per hour between zones, by action and source type.
CREATE TABLE IF NOT EXISTS {{.Database}}.events_hourly
(
    hour DateTime('UTC'),
    source_zone LowCardinality(String),
    destination_zone LowCardinality(String),
    action LowCardinality(String),
    source_type LowCardinality(String),
    events UInt64,
    denied UInt64,
    bytes_out UInt64,
    bytes_in UInt64
)
ENGINE = SummingMergeTree((events, denied, bytes_out, bytes_in))
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, source_zone, destination_zone, source_type, action)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.Database}}.events_hourly_mv TO {{.Database}}.events_hourly AS
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, action, source_type,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM {{.Database}}.events
GROUP BY hour, source_zone, destination_zone, action, source_type;

-- Proxy (and URL filter) requests per hour by web category and source zone.
CREATE TABLE IF NOT EXISTS {{.Database}}.proxy_categories_hourly
(
    hour DateTime('UTC'),
    url_category LowCardinality(String),
    source_zone LowCardinality(String),
    events UInt64,
    blocked UInt64
)
ENGINE = SummingMergeTree((events, blocked))
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, url_category, source_zone)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.Database}}.proxy_categories_hourly_mv TO {{.Database}}.proxy_categories_hourly AS
SELECT toStartOfHour(timestamp) AS hour, url_category, source_zone, count() AS events, countIf(outcome = 'failure') AS blocked
FROM {{.Database}}.events
WHERE url_category != ''
GROUP BY hour, url_category, source_zone;

-- What each log source sent, per hour of arrival (ingested, not the device's clock, which may be wrong):
-- the newest event time and arrival, counts. A source that falls silent shows as an old last_ingested.
CREATE TABLE IF NOT EXISTS {{.Database}}.source_health_hourly
(
    hour DateTime('UTC'),
    observer_host LowCardinality(String),
    source_type LowCardinality(String),
    listener LowCardinality(String),
    observer_ip SimpleAggregateFunction(anyLast, IPv6),
    last_timestamp SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    last_ingested SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events SimpleAggregateFunction(sum, UInt64),
    unparsed SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (observer_host, source_type, listener, hour)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.Database}}.source_health_hourly_mv TO {{.Database}}.source_health_hourly AS
SELECT toStartOfHour(ingested) AS hour, observer_host, source_type, listener,
    anyLast(observer_ip) AS observer_ip, max(timestamp) AS last_timestamp, max(ingested) AS last_ingested,
    count() AS events, countIf(parse_status != 'ok') AS unparsed
FROM {{.Database}}.events
GROUP BY hour, observer_host, source_type, listener;

-- Activity per user per 15 minutes (UTC; Japan's offset is whole hours). Office hours and shift changes
-- fall on quarter hours (08:30, 17:15), so the report can decide "off hours" per bucket with the user's
-- calendar (internal/calendar) and sum, without reading raw events.
CREATE TABLE IF NOT EXISTS {{.Database}}.user_activity_15m
(
    bucket DateTime('UTC'),
    user_name LowCardinality(String),
    source_zone LowCardinality(String),
    source_type LowCardinality(String),
    events UInt64,
    failures UInt64
)
ENGINE = SummingMergeTree((events, failures))
PARTITION BY toYYYYMM(bucket)
ORDER BY (user_name, bucket, source_zone, source_type)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.Database}}.user_activity_15m_mv TO {{.Database}}.user_activity_15m AS
SELECT toStartOfFifteenMinutes(timestamp) AS bucket, user_name, source_zone, source_type,
    count() AS events, countIf(outcome = 'failure') AS failures
FROM {{.Database}}.events
WHERE user_name != ''
GROUP BY bucket, user_name, source_zone, source_type;
