-- Two compressions for events: fast while the data is new, strong once it has settled.
--
-- The text columns (message, raw_head, url_original, labels, id) take CODEC(Default), as the rarely
-- filled columns without a codec of their own have: a part is written with the server's default (LZ4)
-- and, once every row in it arrived more than a day ago (ingested, not the device's time, so a backfill
-- of old logs is written fast too), ClickHouse rewrites those columns with ZSTD(15) at its next merge
-- (TTL … RECOMPRESS; background merges, no rows change). CODEC(Default) rather than REMOVE CODEC: the
-- same, and it can run twice. Columns with an explicit codec keep it: Delta for the times, T64 for the
-- byte counts, and LZ4 for the columns queries scan (below).
--
-- Measured on the simulator's traffic (ingest/writer BenchmarkStorageBytesPerEvent, 300k events, after
-- OPTIMIZE FINAL), bytes per event in events:
--   before (ZSTD(9) on message, raw, id; LZ4 elsewhere)                      49.6
--   settled, as this file leaves it (text columns ZSTD(15), scanned ones LZ4) 44.3
--   settled with every column recompressed: ZSTD(9) 44.7, ZSTD(12) 43.4, ZSTD(15) 41.0, ZSTD(19) 38.4
--   the first day, LZ4                                                        85.4
-- and the time to write and merge those 300k events with every column recompressed: LZ4 2.8 s,
-- ZSTD(9) 7.9 s, ZSTD(12) 12.8 s, ZSTD(15) 23.3 s (ZSTD(19) several times longer again: zstd -19
-- compresses these lines 43 times slower than -9). ZSTD(15) is the knee; zstd decompresses at about
-- the same speed whatever the level.
-- To trade differently: ALTER TABLE events MODIFY TTL toDateTime(ingested) + INTERVAL 1 DAY RECOMPRESS CODEC(ZSTD(n)).
ALTER TABLE {{.Database}}.events
    MODIFY COLUMN id String CODEC(Default),
    MODIFY COLUMN message String CODEC(Default),
    MODIFY COLUMN raw_head String CODEC(Default),
    MODIFY COLUMN url_original String CODEC(Default),
    MODIFY COLUMN labels Map(LowCardinality(String), String) CODEC(Default);

-- The typed columns that filters, group-bys and the dashboards' raw-table panels scan stay LZ4 at any age
-- (an explicit codec keeps them out of the RECOMPRESS): ZSTD would save about 3 bytes per event on
-- them but decodes slower, and a 7-day top-N of blocked domains over 10 M events took 15–50 % longer
-- with them in ZSTD (same data, same run).
ALTER TABLE {{.Database}}.events
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

ALTER TABLE {{.Database}}.events
    MODIFY TTL toDateTime(ingested) + INTERVAL 1 DAY RECOMPRESS CODEC(ZSTD(15));
