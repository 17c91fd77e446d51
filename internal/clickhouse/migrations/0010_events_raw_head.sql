-- Keep the raw line without storing its body twice. `raw` (ECS event.original, the evidence) was the
-- whole line and `message` its body, so most of every line was stored twice: raw was 26 of the
-- 71 bytes on disk per event of the simulator's traffic (ingest/writer BenchmarkStorageBytesPerEvent).
-- Now the writer stores only what precedes the body (raw_head: the syslog header, or nothing for a
-- file line, whose message is the line), and `raw` is an ALIAS that puts the line back together
-- byte for byte. A line that does not end with its message (a body transcoded from Shift_JIS or
-- EUC-JP, say) is stored whole in raw_head with raw_whole set.
--
-- Rerunnable, and safe for two processes migrating at once: the UPDATE only touches rows not yet split
-- and reads `raw` whether it is still the column or already the ALIAS, and the column becomes the ALIAS
-- in one ALTER (dropped and added together), so no statement ever finds `raw` missing.
ALTER TABLE {{.Database}}.events
    ADD COLUMN IF NOT EXISTS raw_head String CODEC(ZSTD(9)) AFTER message,
    ADD COLUMN IF NOT EXISTS raw_whole Bool AFTER raw_head;

ALTER TABLE {{.Database}}.events
    UPDATE raw_head = if(endsWith(raw, message), substring(raw, 1, length(raw) - length(message)), raw),
        raw_whole = NOT endsWith(raw, message)
    WHERE raw_head = '' AND raw != ''
    SETTINGS mutations_sync = 2;

ALTER TABLE {{.Database}}.events
    DROP COLUMN IF EXISTS raw,
    ADD COLUMN raw String ALIAS if(raw_whole, raw_head, concat(raw_head, message)) AFTER raw_whole;
