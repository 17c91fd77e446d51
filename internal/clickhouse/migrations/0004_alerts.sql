-- Alerts raised by the rules engine (rules.Alert), one row per alert. Alert ids are derived from the
-- rule, the group and the first event, so a replay raises the same id: ReplacingMergeTree keeps the
-- latest version (by created) of each id. Read with FINAL (or argMax by created).
-- status is the status the alert was raised with ("open"); the workflow that follows lives in
-- alert_actions, and alert_status gives the current status.
CREATE TABLE IF NOT EXISTS {{.Database}}.alerts
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

-- The alert workflow, append-only: every open / acknowledge / resolve is a new row, never an update,
-- so who did what and when stays on record.
CREATE TABLE IF NOT EXISTS {{.Database}}.alert_actions
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

-- The current workflow status of each alert that has actions: the latest action wins.
CREATE VIEW IF NOT EXISTS {{.Database}}.alert_status AS
SELECT alert_id, argMax(action, at) AS status, argMax(who, at) AS last_who, max(at) AS last_at
FROM {{.Database}}.alert_actions
GROUP BY alert_id;
