-- 0001_events
CREATE TABLE IF NOT EXISTS zonewatch.events_local
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
CREATE TABLE IF NOT EXISTS zonewatch.events AS zonewatch.events_local ENGINE = Distributed('zw', 'zonewatch', 'events_local', cityHash64(observer_host, observer_ip));

-- 0002_dead_letters
CREATE TABLE IF NOT EXISTS zonewatch.dead_letters_local
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
CREATE TABLE IF NOT EXISTS zonewatch.dead_letters AS zonewatch.dead_letters_local ENGINE = Distributed('zw', 'zonewatch', 'dead_letters_local', cityHash64(listener, peer));

-- 0003_writer_dedup
ALTER TABLE zonewatch.events_local MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE zonewatch.dead_letters_local MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE zonewatch.events_local ADD INDEX IF NOT EXISTS idx_id id TYPE bloom_filter(0.001) GRANULARITY 1;
ALTER TABLE zonewatch.events_local MATERIALIZE INDEX idx_id;

-- 0004_alerts
CREATE TABLE IF NOT EXISTS zonewatch.alerts_local
(
    id String,
    rule_id LowCardinality(String),
    title_ja String,
    title_en String,
    severity LowCardinality(String),
    kind LowCardinality(String),
    tags Array(LowCardinality(String)),
    group_key String,
    `group` Map(LowCardinality(String), String),
    count UInt64,
    distinct_count UInt64,
    event_ids Array(String) CODEC(ZSTD(1)),
    event_ids_omitted UInt64,
    zones Array(LowCardinality(String)),
    first_seen DateTime64(3, 'UTC'),
    last_seen DateTime64(3, 'UTC'),
    suppressed UInt64,
    status LowCardinality(String) DEFAULT 'open',
    created DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created)
PARTITION BY toYYYYMM(first_seen)
ORDER BY (rule_id, id);
CREATE TABLE IF NOT EXISTS zonewatch.alerts AS zonewatch.alerts_local ENGINE = Distributed('zw', 'zonewatch', 'alerts_local', cityHash64(id));
CREATE TABLE IF NOT EXISTS zonewatch.alert_actions_local
(
    alert_id String,
    action Enum8('open' = 1, 'acknowledge' = 2, 'resolve' = 3),
    who LowCardinality(String),
    comment String CODEC(ZSTD(3)),
    at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (alert_id, at);
CREATE TABLE IF NOT EXISTS zonewatch.alert_actions AS zonewatch.alert_actions_local ENGINE = Distributed('zw', 'zonewatch', 'alert_actions_local', cityHash64(alert_id));
CREATE VIEW IF NOT EXISTS zonewatch.alert_status AS
SELECT alert_id, argMax(action, at) AS status, argMax(who, at) AS last_who, max(at) AS last_at
FROM zonewatch.alert_actions
GROUP BY alert_id;

-- 0005_rollups
CREATE TABLE IF NOT EXISTS zonewatch.events_hourly_local
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
CREATE TABLE IF NOT EXISTS zonewatch.events_hourly AS zonewatch.events_hourly_local ENGINE = Distributed('zw', 'zonewatch', 'events_hourly_local', rand());
CREATE MATERIALIZED VIEW IF NOT EXISTS zonewatch.events_hourly_mv TO zonewatch.events_hourly_local AS
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, action, source_type,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM zonewatch.events_local
GROUP BY hour, source_zone, destination_zone, action, source_type;
CREATE TABLE IF NOT EXISTS zonewatch.proxy_categories_hourly_local
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
CREATE TABLE IF NOT EXISTS zonewatch.proxy_categories_hourly AS zonewatch.proxy_categories_hourly_local ENGINE = Distributed('zw', 'zonewatch', 'proxy_categories_hourly_local', rand());
CREATE MATERIALIZED VIEW IF NOT EXISTS zonewatch.proxy_categories_hourly_mv TO zonewatch.proxy_categories_hourly_local AS
SELECT toStartOfHour(timestamp) AS hour, url_category, source_zone, count() AS events, countIf(outcome = 'failure') AS blocked
FROM zonewatch.events_local
WHERE url_category != ''
GROUP BY hour, url_category, source_zone;
CREATE TABLE IF NOT EXISTS zonewatch.source_health_hourly_local
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
CREATE TABLE IF NOT EXISTS zonewatch.source_health_hourly AS zonewatch.source_health_hourly_local ENGINE = Distributed('zw', 'zonewatch', 'source_health_hourly_local', cityHash64(observer_host));
CREATE MATERIALIZED VIEW IF NOT EXISTS zonewatch.source_health_hourly_mv TO zonewatch.source_health_hourly_local AS
SELECT toStartOfHour(ingested) AS hour, observer_host, source_type, listener,
    anyLast(observer_ip) AS observer_ip, max(timestamp) AS last_timestamp, max(ingested) AS last_ingested,
    count() AS events, countIf(parse_status != 'ok') AS unparsed
FROM zonewatch.events_local
GROUP BY hour, observer_host, source_type, listener;
CREATE TABLE IF NOT EXISTS zonewatch.user_activity_15m_local
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
CREATE TABLE IF NOT EXISTS zonewatch.user_activity_15m AS zonewatch.user_activity_15m_local ENGINE = Distributed('zw', 'zonewatch', 'user_activity_15m_local', rand());
CREATE MATERIALIZED VIEW IF NOT EXISTS zonewatch.user_activity_15m_mv TO zonewatch.user_activity_15m_local AS
SELECT toStartOfFifteenMinutes(timestamp) AS bucket, user_name, source_zone, source_type,
    count() AS events, countIf(outcome = 'failure') AS failures
FROM zonewatch.events_local
WHERE user_name != ''
GROUP BY bucket, user_name, source_zone, source_type;

-- 0006_events_codecs
ALTER TABLE zonewatch.events_local MODIFY COLUMN raw String CODEC(ZSTD(9));
ALTER TABLE zonewatch.events_local MODIFY COLUMN message String CODEC(ZSTD(9));
ALTER TABLE zonewatch.events_local MODIFY COLUMN labels Map(LowCardinality(String), String) CODEC(ZSTD(3));

-- 0007_audit
CREATE TABLE IF NOT EXISTS zonewatch.audit_local
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
CREATE TABLE IF NOT EXISTS zonewatch.audit AS zonewatch.audit_local ENGINE = Distributed('zw', 'zonewatch', 'audit_local', cityHash64(request_id));

-- 0008_api_tokens
CREATE TABLE IF NOT EXISTS zonewatch.api_tokens_local
(
    token_sha256 String,
    id String,
    name String,
    role LowCardinality(String),
    zones Array(LowCardinality(String)),
    created DateTime64(3, 'UTC'),
    expires Nullable(DateTime64(3, 'UTC')),
    revoked Bool,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY token_sha256;
CREATE TABLE IF NOT EXISTS zonewatch.api_tokens AS zonewatch.api_tokens_local ENGINE = Distributed('zw', 'zonewatch', 'api_tokens_local', cityHash64(token_sha256));

-- 0009_rollup_scopes
ALTER TABLE zonewatch.events_hourly_local
    ADD COLUMN IF NOT EXISTS observer_zone LowCardinality(String) AFTER destination_zone,
    MODIFY ORDER BY (hour, source_zone, destination_zone, source_type, action, observer_zone);
ALTER TABLE zonewatch.events_hourly_local MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';
ALTER TABLE zonewatch.events_hourly_local
    ADD PROJECTION IF NOT EXISTS zone_pairs (SELECT hour, source_zone, destination_zone, observer_zone,
        sum(events), sum(denied), sum(bytes_out), sum(bytes_in) GROUP BY hour, source_zone, destination_zone, observer_zone);
ALTER TABLE zonewatch.events_hourly_local
    ADD PROJECTION IF NOT EXISTS by_type (SELECT hour, source_zone, destination_zone, action, source_type,
        sum(events), sum(denied), sum(bytes_out), sum(bytes_in) GROUP BY hour, source_zone, destination_zone, action, source_type);
DROP VIEW IF EXISTS zonewatch.events_hourly_mv;
CREATE MATERIALIZED VIEW IF NOT EXISTS zonewatch.events_hourly_mv TO zonewatch.events_hourly_local AS
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, action, source_type,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM zonewatch.events_local
GROUP BY hour, source_zone, destination_zone, observer_zone, action, source_type;
ALTER TABLE zonewatch.events_hourly_local DELETE WHERE true SETTINGS mutations_sync = 2;
INSERT INTO zonewatch.events_hourly_local (hour, source_zone, destination_zone, observer_zone, action, source_type, events, denied, bytes_out, bytes_in)
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, action, source_type,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM zonewatch.events_local
GROUP BY hour, source_zone, destination_zone, observer_zone, action, source_type;
CREATE TABLE IF NOT EXISTS zonewatch.user_zones_hourly_local
(
    hour DateTime('UTC'),
    source_zone LowCardinality(String),
    destination_zone LowCardinality(String),
    observer_zone LowCardinality(String),
    user_name LowCardinality(String),
    events UInt64,
    denied UInt64,
    bytes_out UInt64,
    bytes_in UInt64
)
ENGINE = SummingMergeTree((events, denied, bytes_out, bytes_in))
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, source_zone, destination_zone, observer_zone, user_name)
SETTINGS non_replicated_deduplication_window = 1000;
CREATE TABLE IF NOT EXISTS zonewatch.user_zones_hourly AS zonewatch.user_zones_hourly_local ENGINE = Distributed('zw', 'zonewatch', 'user_zones_hourly_local', rand());
CREATE MATERIALIZED VIEW IF NOT EXISTS zonewatch.user_zones_hourly_mv TO zonewatch.user_zones_hourly_local AS
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, user_name,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM zonewatch.events_local
GROUP BY hour, source_zone, destination_zone, observer_zone, user_name;
ALTER TABLE zonewatch.user_zones_hourly_local DELETE WHERE true SETTINGS mutations_sync = 2;
INSERT INTO zonewatch.user_zones_hourly_local (hour, source_zone, destination_zone, observer_zone, user_name, events, denied, bytes_out, bytes_in)
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, user_name,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM zonewatch.events_local
GROUP BY hour, source_zone, destination_zone, observer_zone, user_name;

-- 0010_events_raw_head
ALTER TABLE zonewatch.events_local
    ADD COLUMN IF NOT EXISTS raw_head String CODEC(ZSTD(9)) AFTER message,
    ADD COLUMN IF NOT EXISTS raw_whole Bool AFTER raw_head;
ALTER TABLE zonewatch.events_local
    UPDATE raw_head = if(endsWith(raw, message), substring(raw, 1, length(raw) - length(message)), raw),
        raw_whole = NOT endsWith(raw, message)
    WHERE raw_head = '' AND raw != ''
    SETTINGS mutations_sync = 2;
ALTER TABLE zonewatch.events_local
    DROP COLUMN IF EXISTS raw,
    ADD COLUMN raw String ALIAS if(raw_whole, raw_head, concat(raw_head, message)) AFTER raw_whole;

-- 0011_events_cold_codec
ALTER TABLE zonewatch.events_local
    MODIFY COLUMN id String CODEC(Default),
    MODIFY COLUMN message String CODEC(Default),
    MODIFY COLUMN raw_head String CODEC(Default),
    MODIFY COLUMN url_original String CODEC(Default),
    MODIFY COLUMN labels Map(LowCardinality(String), String) CODEC(Default);
ALTER TABLE zonewatch.events_local
    MODIFY COLUMN observer_host LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN observer_ip IPv6 CODEC(LZ4),
    MODIFY COLUMN observer_zone LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN listener LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN source_type LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN parse_status LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN category LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN action LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN outcome LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN severity UInt8 CODEC(LZ4),
    MODIFY COLUMN facility UInt8 CODEC(LZ4),
    MODIFY COLUMN source_ip IPv6 CODEC(LZ4),
    MODIFY COLUMN source_port UInt16 CODEC(LZ4),
    MODIFY COLUMN source_zone LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN destination_ip IPv6 CODEC(LZ4),
    MODIFY COLUMN destination_port UInt16 CODEC(LZ4),
    MODIFY COLUMN destination_zone LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN cross_zone Bool CODEC(LZ4),
    MODIFY COLUMN transport LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN app_protocol LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN user_name LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN url_domain LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN http_method LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN http_status UInt16 CODEC(LZ4),
    MODIFY COLUMN url_category LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN user_agent LowCardinality(String) CODEC(LZ4),
    MODIFY COLUMN process_name LowCardinality(String) CODEC(LZ4);
ALTER TABLE zonewatch.events_local
    MODIFY TTL toDateTime(ingested) + INTERVAL 1 DAY RECOMPRESS CODEC(ZSTD(15));

-- 0012_events_timestamp_minmax
ALTER TABLE zonewatch.events_local ADD INDEX IF NOT EXISTS idx_timestamp timestamp TYPE minmax GRANULARITY 1;
ALTER TABLE zonewatch.events_local MATERIALIZE INDEX idx_timestamp;

-- 0013_events_message_template
ALTER TABLE zonewatch.events_local
    ADD COLUMN IF NOT EXISTS message_template String CODEC(Default) AFTER process_name,
    ADD COLUMN IF NOT EXISTS verbatim Bool DEFAULT true AFTER raw_whole;
ALTER TABLE zonewatch.events_local
    UPDATE message_template = message
    WHERE message_template = '' AND message != ''
    SETTINGS mutations_sync = 2;
ALTER TABLE zonewatch.events_local
    DROP COLUMN IF EXISTS raw,
    DROP COLUMN IF EXISTS message,
    ADD COLUMN message String ALIAS if(verbatim, message_template,
        replaceOne(replaceOne(replaceOne(replaceOne(replaceOne(replaceOne(replaceOne(replaceOne(replaceOne(replaceOne(message_template,
            '\x01', url_original),
            '\x02', user_name),
            '\x03', toString(toUnixTimestamp64Milli(timestamp))),
            '\x04', concat(toString(intDiv(toUnixTimestamp64Milli(timestamp), 1000)), '.', leftPad(toString(toUnixTimestamp64Milli(timestamp) % 1000), 3, '0'))),
            '\x05', formatDateTime(timestamp, '%H:%i:%S', 'Asia/Tokyo')),
            '\x06', substring(IPv6NumToString(source_ip), 8)),
            '\x07', substring(IPv6NumToString(destination_ip), 8)),
            '\x08', toString(bytes_out)),
            '\x0E', toString(bytes_in)),
            '\x0F', toString(source_port))) AFTER message_template,
    ADD COLUMN raw String ALIAS if(raw_whole, raw_head, concat(if(verbatim, raw_head,
        replaceOne(replaceOne(raw_head,
            '\x10', concat(formatDateTime(timestamp, '%b ', 'Asia/Tokyo'), leftPad(toString(toDayOfMonth(timestamp, 'Asia/Tokyo')), 2, ' '), formatDateTime(timestamp, ' %H:%i:%S', 'Asia/Tokyo'))),
            '\x11', concat(formatDateTime(timestamp, '%Y-%m-%dT%H:%i:%S.', 'Asia/Tokyo'), leftPad(toString(toUnixTimestamp64Milli(timestamp) % 1000), 3, '0'), '+09:00'))),
        message)) AFTER verbatim;

