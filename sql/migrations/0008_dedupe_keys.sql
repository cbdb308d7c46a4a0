-- A smaller near-duplicate index: one bigint key per (band, hash), the band number folded into the
-- key's top byte (hash XOR band << 56, as pipeline/minhash.band_key computes it). Each row loses its
-- smallint band column and the padding after it: 16 bytes less in the heap and 8 less in every
-- index entry, so more of the index stays in shared_buffers as the corpus grows (each batch touches
-- one random index page per key; docs/performance.md). Existing rows are converted, no rebuild.

CREATE TABLE article_band_keys (
    key         bigint NOT NULL,
    article_id  bigint NOT NULL
);
INSERT INTO article_band_keys (key, article_id)
SELECT DISTINCT hash # (band::bigint << 56), article_id FROM article_bands ORDER BY 1, 2;
ALTER TABLE article_band_keys ADD PRIMARY KEY (key, article_id);
DROP TABLE article_bands;
ALTER TABLE article_band_keys RENAME TO article_bands;
ALTER INDEX article_band_keys_pkey RENAME TO article_bands_pkey;

-- No foreign key on article_id: it would need a second index on article_id only to make deleting
-- an article fast; the candidate query joins articles, so rows of a deleted article are ignored,
-- and `newsdesk dedupe --rebuild` rewrites the table. The primary key is the lookup index.
COMMENT ON TABLE article_bands IS 'LSH index of the MinHash signatures of article bodies: articles sharing a key are near-duplicate candidates. Rebuilt by newsdesk dedupe --rebuild when the dedupe settings change.';
COMMENT ON COLUMN article_bands.key IS 'BLAKE2b (64 bits) of one band''s MinHash values, or of a paragraph opening, with the band number XORed into the top byte (band << 56); the band numbered bands holds the openings of the first paragraphs (finds teasers and truncated copies).';
COMMENT ON COLUMN article_bands.article_id IS 'The article (articles.id).';
