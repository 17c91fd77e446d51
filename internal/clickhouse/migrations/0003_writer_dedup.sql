-- The writer's de-duplication (see ingest/writer, "No duplicates"):
-- * remember the insert_deduplication_token of the last 1000 inserts, so that a batch the writer sends
--   again after an ambiguous failure is stored once (and not pushed to the rollups twice);
-- * index event ids, so that the look-up of redelivered ids reads few granules.
ALTER TABLE {{.Database}}.events MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{.Database}}.dead_letters MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{.Database}}.events ADD INDEX IF NOT EXISTS idx_id id TYPE bloom_filter(0.001) GRANULARITY 1;
ALTER TABLE {{.Database}}.events MATERIALIZE INDEX idx_id;
