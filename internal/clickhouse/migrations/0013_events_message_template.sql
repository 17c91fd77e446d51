-- Store each value of a line once. A log line repeats what the parser put in typed columns (addresses,
-- ports, byte counts, the user, the URL, the time), and `message` held it all a second time: 21.3 of the
-- 44.3 bytes on disk per event of the simulator's traffic (ingest/writer BenchmarkStorageBytesPerEvent).
-- Now the writer stores message_template, the message with each such value replaced by one control byte,
-- and cuts the timestamp out of raw_head the same way (internal/event StoredText); `message` and `raw`
-- become ALIASes that put the values back from the same row's columns, byte for byte. verbatim marks a
-- row whose texts hold no references (a line that held a control byte of its own, a line stored whole,
-- and every row stored before this migration: the column's default).
--
-- The references, each replaced at its first occurrence (replaceOne), rendered as in StoredText:
--   message  0x01 url_original             0x06 source_ip (IPv4)
--            0x02 user_name                0x07 destination_ip (IPv4)
--            0x03 timestamp, epoch ms      0x08 bytes_out
--            0x04 timestamp, epoch s.mmm   0x0E bytes_in
--            0x05 timestamp, HH:MM:SS JST  0x0F source_port
--   raw_head 0x10 timestamp, RFC 3164 JST  0x11 timestamp, RFC 3339 with ms, +09:00
-- A byte keeps its meaning for good; a new reference takes a new byte (0x12-0x1F, which the writer
-- already treats as its own, storing a line that holds one verbatim).
--
-- Measured (BenchmarkStorageBytesPerEvent, 300k events): 44.3 → 28.5 bytes per event settled (the
-- message 21.3 → 7.8, raw_head 2.3 → 0.05), 85 → 50.5 for the newest day. The price is paid where
-- `message` is computed for many rows: about ten string passes a row (a filter on the message alone
-- over 2M events: 29 ms on the column, 750 ms through the ALIAS). A search reads message_template and
-- fills it in Go, and query/filter reads the template (and url_original, user_name) for text that
-- cannot touch a cut-out value; the ALIAS is left for the other message filters.
--
-- Rerunnable like 0010: the UPDATE touches only rows not yet copied and reads `message` whether it is
-- still the column or already the ALIAS, and the ALIASes replace the columns in one ALTER. Stop writers
-- of an older zonewatch before migrating: rows they insert after the UPDATE would lose their message.
ALTER TABLE {{.Database}}.events
    ADD COLUMN IF NOT EXISTS message_template String CODEC(Default) AFTER process_name,
    ADD COLUMN IF NOT EXISTS verbatim Bool DEFAULT true AFTER raw_whole;

ALTER TABLE {{.Database}}.events
    UPDATE message_template = message
    WHERE message_template = '' AND message != ''
    SETTINGS mutations_sync = 2;

ALTER TABLE {{.Database}}.events
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
