// Package writer moves events from JetStream into ClickHouse: large batches, acknowledged only after
// ClickHouse accepted them, without duplicate rows when JetStream redelivers, and patient while ClickHouse
// is away (JetStream holds the backlog on disk).
//
// # Flow
//
// A Writer pulls batches from the durable consumer "writer" on ZW_EVENTS (and one on ZW_DEAD for dead
// letters) with Fetch. Several writer processes with the same durable share the work: JetStream hands each
// message to one of them. Each loop has two stages joined by a one-slot channel, so that decoding the next
// batch overlaps the INSERT of the current one: a fetcher (Fetch, JSON decode) and an inserter (INSERT
// with column-oriented appends, then Ack of every message of the batch). From the moment a batch is
// fetched until it is acknowledged, a heartbeat sends InProgress for its messages every AckWait/3, so
// neither a slow INSERT nor an outage lets the acks expire and the batch wander to another writer.
//
// # Messages
//
// A message on zw.events.<zone>.<source type> carries one or more events as NDJSON, each event's JSON
// followed by '\n' (see pipeline.Publisher; a message with one event is that event's JSON). The writer
// splits every message with event.SplitBatch and decodes each line; all events of a message share its
// redelivered flag, and a line that is not an event becomes a dead letter of its own (id
// "bus-<subject>-<stream sequence>-<line>", its text as raw) while the message's other events are
// written. A batch is therefore up to BatchSize messages but aims at BatchSize events: each Fetch asks
// for BatchSize ÷ (events per message of the previous batch) messages. Acks, InProgress and
// Fault.SkipAck work on messages; zonewatch_writer_rows_inserted_total counts events,
// zonewatch_writer_batch_messages and zonewatch_writer_batch_events size the batches.
//
// # ClickHouse outages
//
// A failed INSERT is retried with capped exponential backoff (MinBackoff doubling to MaxBackoff); the
// state metric zonewatch_writer_state is 1 ("retrying") until an insert succeeds again. The fetcher stops
// at the one-slot channel, so the writer holds at most two batches in memory and JetStream keeps the
// backlog on disk; when ClickHouse is back, the backlog drains at full batch size.
//
// # No duplicates
//
// At-least-once delivery means the same event can reach the writer twice: JetStream redelivers a message
// whose ack did not arrive (the writer died between INSERT and Ack, or the ack expired), and the writer
// itself retries an INSERT whose outcome it does not know (the connection broke after ClickHouse had
// committed all or part of it). The rollups (materialised views, migration 0005) are fed at insert time
// and never collapse anything, so a repeated row must not even reach them. Three mechanisms:
//
//  1. Look-up of redelivered ids. At the first attempt of a batch, the writer asks ClickHouse which of
//     the events JetStream marks as redelivered (NumDelivered > 1) it already holds, and leaves those
//     out (zonewatch_writer_duplicates_skipped_total). The normal path, a first delivery, costs nothing.
//     The look-up is narrowed by the suspects' time range (partition pruning) and a bloom-filter index on
//     id (migration 0003), in chunks that fit max_query_size.
//  2. Identical retries with insert_deduplication_token. Every INSERT carries a token derived from the
//     ids it holds, with deduplicate_blocks_in_dependent_materialized_views = 1, and events and every
//     rollup keep the tokens of their last 1000 inserts (non_replicated_deduplication_window, migrations
//     0003 and 0005). A retry sends the identical INSERT (the rows chosen at the first attempt, same
//     order, same token) and does not look up again: an INSERT is not atomic across the source table and
//     its views, so a server killed mid-insert can leave the rows in events and not yet in some rollups;
//     the replay is then dropped as a repeat by the tables that have it and written to those that miss it
//     (TestReplayAfterPartialCommit, TestClickHouseKilledWhileWriting).
//  3. ReplacingMergeTree on events, ordered by a key that ends in id: should a copy still slip through,
//     merges collapse it and SELECT … FINAL never shows it.
//
// What is not covered: the double fault where ClickHouse dies in the middle of an INSERT and the writer
// dies before its retry. The redelivery then goes to a batch of different rows, the look-up finds the
// events and leaves them out, and a rollup that the interrupted INSERT had not reached misses them
// (events themselves stay exact). RebuildRollups recomputes the rollups of the hours concerned from
// events.
//
// ClickHouse's content-hash de-duplication alone (identical blocks without a token) is not enough:
// redelivered messages arrive in different batches, so the blocks differ.
//
// # Around the writer
//
// MonitorStreams watches the streams' limits, Retention drops old months, LastSeen reports silent log
// sources, OffHoursByUser joins user activity with the calendars, and RebuildRollups repairs rollups.
//
// # Test hooks
//
// Options.Fault injects faults that a test cannot time from outside (see Fault); it is never set in
// production.
package writer
