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
// committed). Three mechanisms, in order of importance:
//
//  1. Look-up of suspect ids (the mechanism that guarantees it). Before inserting, the writer asks
//     ClickHouse which of the batch's suspect ids it already holds and leaves those rows out (counted in
//     zonewatch_writer_duplicates_skipped_total). Suspects are the messages JetStream marks as redelivered
//     (NumDelivered > 1) and, on a retry of a failed INSERT, every message of the batch. The normal path,
//     a first delivery inserted at the first attempt, costs nothing. The look-up is narrowed by the
//     batch's time range (partition pruning) and by a bloom-filter index on id (migration 0003).
//  2. insert_deduplication_token. Every INSERT carries a token derived from the ids it holds, and the
//     events table keeps the tokens of its last 1000 inserts (non_replicated_deduplication_window,
//     migration 0003). It covers the one case the look-up cannot see: a retry sent while the previous,
//     timed-out INSERT of the same rows is still being committed by the server. A deduplicated INSERT is
//     not pushed to the materialised views either, so the rollups do not double count.
//  3. ReplacingMergeTree on events, ordered by a key that ends in id: should a copy still slip through
//     (a writer stalled longer than AckWait while another one inserted the redelivery), merges collapse
//     it and SELECT … FINAL never shows it. The rollups, fed at insert time, would count such a copy, which
//     is why 1 and 2 matter.
//
// ClickHouse's content-hash de-duplication alone (identical blocks) is not enough: redelivered messages
// arrive in different batches, so the blocks differ.
//
// # Test hooks
//
// Options.Fault injects faults that a test cannot time from outside (see Fault); it is never set in
// production.
package writer
