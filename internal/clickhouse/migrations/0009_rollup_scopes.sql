-- Rollups that a zone-scoped query can read. A query scope hides an event when its source,
-- destination or observer zone is hidden (query.Scope); events_hourly had no observer_zone, so every
-- scoped dashboard read the raw events. It gets observer_zone, and user_zones_hourly counts per user
-- and zones, so that "distinct users" (uniqExact(user_name)) is answered from a rollup as well.
--
-- Both are refilled from events below (the view's SELECT over every stored event), so months stored
-- before this migration stay right. Run `zonewatch migrate` with the writers STOPPED: an event
-- inserted between the refill's DELETE and its INSERT … SELECT is counted by the view and by the
-- refill, twice (writer.RebuildRollups repairs a range afterwards if that happened). On a cluster the
-- refill runs on each node over its own shard (events_local into <rollup>_local), as the views do;
-- with replicas, run it on one replica per shard.

ALTER TABLE {{.Database}}.events_hourly
    ADD COLUMN IF NOT EXISTS observer_zone LowCardinality(String) AFTER destination_zone,
    MODIFY ORDER BY (hour, source_zone, destination_zone, source_type, action, observer_zone);

-- observer_zone multiplies the rows (up to 6x when every zone observes every pair). Two aggregate
-- projections keep the common panels small; ClickHouse reads one when it answers the query (summed
-- again at read time, so exact): the zone matrix, scoped or not (zones and observer zone), and the
-- panels by action or source type (without the observer zone, as events_hourly was). A
-- SummingMergeTree must say how merges treat projections: rebuild them.
ALTER TABLE {{.Database}}.events_hourly MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE {{.Database}}.events_hourly
    ADD PROJECTION IF NOT EXISTS zone_pairs (SELECT hour, source_zone, destination_zone, observer_zone,
        sum(events), sum(denied), sum(bytes_out), sum(bytes_in) GROUP BY hour, source_zone, destination_zone, observer_zone);

ALTER TABLE {{.Database}}.events_hourly
    ADD PROJECTION IF NOT EXISTS by_type (SELECT hour, source_zone, destination_zone, action, source_type,
        sum(events), sum(denied), sum(bytes_out), sum(bytes_in) GROUP BY hour, source_zone, destination_zone, action, source_type);

DROP VIEW IF EXISTS {{.Database}}.events_hourly_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.Database}}.events_hourly_mv TO {{.Database}}.events_hourly AS
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, action, source_type,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM {{.Database}}.events
GROUP BY hour, source_zone, destination_zone, observer_zone, action, source_type;

-- The rows made before this migration have an empty observer_zone (and no projections): recount
-- every hour.
ALTER TABLE {{.Database}}.events_hourly DELETE WHERE true SETTINGS mutations_sync = 2;

INSERT INTO {{.Database}}.events_hourly (hour, source_zone, destination_zone, observer_zone, action, source_type, events, denied, bytes_out, bytes_in)
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, action, source_type,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM {{.Database}}.events
GROUP BY hour, source_zone, destination_zone, observer_zone, action, source_type;

-- Traffic per hour, user and zones. user_name is a key, so uniqExact(user_name) over these rows is
-- exactly uniqExact(user_name) over the events they count ('' included, as over events). No action
-- or source type: with them the table would be several times larger and the panels that count
-- users do not split by them.
CREATE TABLE IF NOT EXISTS {{.Database}}.user_zones_hourly
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.Database}}.user_zones_hourly_mv TO {{.Database}}.user_zones_hourly AS
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, user_name,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM {{.Database}}.events
GROUP BY hour, source_zone, destination_zone, observer_zone, user_name;

-- Empty unless this migration stopped half-way and runs again: then its first fill goes first.
ALTER TABLE {{.Database}}.user_zones_hourly DELETE WHERE true SETTINGS mutations_sync = 2;

INSERT INTO {{.Database}}.user_zones_hourly (hour, source_zone, destination_zone, observer_zone, user_name, events, denied, bytes_out, bytes_in)
SELECT toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, user_name,
    count() AS events, countIf(outcome = 'failure') AS denied, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in
FROM {{.Database}}.events
GROUP BY hour, source_zone, destination_zone, observer_zone, user_name;
