-- Two compressions for events: fast while the data is new, strong once it has settled.
--
-- The text columns (message, raw_head, url_original, labels, id) take CODEC(Default), as every column
-- without a codec of its own has: a part is written with the server's default (LZ4) and, once every
-- row in it arrived more than a day ago (ingested, not the device's time, so a backfill of old logs is
-- written fast too), ClickHouse rewrites it with ZSTD(15) at its next merge (TTL … RECOMPRESS; background
-- merges, no rows change). (CODEC(Default) rather than REMOVE CODEC: the same, and it can run twice.)
-- Columns with a transform codec (Delta for the times, T64 for the byte
-- counts) keep theirs: RECOMPRESS leaves explicit codecs alone.
--
-- Measured on the simulator's traffic (ingest/writer BenchmarkStorageBytesPerEvent, 300k events, after
-- OPTIMIZE FINAL), bytes per event in events:
--   before (ZSTD(9) on message, raw, id; LZ4 elsewhere)             49.6
--   settled: ZSTD(9) 44.7, ZSTD(12) 43.4, ZSTD(15) 41.0, ZSTD(19) 38.4
--   the first day, LZ4                                               85.4
-- and the time to write and merge those 300k events: LZ4 2.8 s, ZSTD(9) 7.9 s, ZSTD(12) 12.8 s,
-- ZSTD(15) 23.3 s (ZSTD(19) several times longer again: zstd -19 compresses these lines 43 times slower
-- than -9). ZSTD(15) is the knee; zstd decompresses at about the same speed whatever the level.
-- To trade differently: ALTER TABLE events MODIFY TTL toDateTime(ingested) + INTERVAL 1 DAY RECOMPRESS CODEC(ZSTD(n)).
ALTER TABLE {{.Database}}.events
    MODIFY COLUMN id String CODEC(Default),
    MODIFY COLUMN message String CODEC(Default),
    MODIFY COLUMN raw_head String CODEC(Default),
    MODIFY COLUMN url_original String CODEC(Default),
    MODIFY COLUMN labels Map(LowCardinality(String), String) CODEC(Default);

ALTER TABLE {{.Database}}.events
    MODIFY TTL toDateTime(ingested) + INTERVAL 1 DAY RECOMPRESS CODEC(ZSTD(15));
