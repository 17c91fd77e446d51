-- query/api: API tokens, stored as the SHA-256 (hex) of the random token, never the token itself.
-- A token is revoked or changed by inserting a row with a higher version; reads use FINAL.
CREATE TABLE IF NOT EXISTS {{.Database}}.api_tokens
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
