-- Per-source learned title furniture: a prefix or suffix that a large share of one source's
-- titles carry ("... - National", "... | Patient Education", "WATCH: ..."), removed from titles.

CREATE TABLE source_title_affixes (
    source         text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    position       text NOT NULL CHECK (position IN ('prefix', 'suffix')),
    affix          text NOT NULL CHECK (affix <> ''),
    pages          integer NOT NULL CHECK (pages > 0),
    sample         integer NOT NULL CHECK (sample >= pages),
    learned_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, position, affix)
);
COMMENT ON TABLE source_title_affixes IS 'Title prefixes and suffixes learned as one source''s furniture: each starts or ends a large share of the source''s recent titles at a separator. The extractor removes them from that source''s titles; refreshed after every process run. Delete a row to stop removing it.';
COMMENT ON COLUMN source_title_affixes.source IS 'The source whose titles carry the affix.';
COMMENT ON COLUMN source_title_affixes.position IS 'prefix (removed from the start of a title) or suffix (from its end).';
COMMENT ON COLUMN source_title_affixes.affix IS 'The exact text removed, separator included (" - National", "WATCH: ").';
COMMENT ON COLUMN source_title_affixes.pages IS 'In how many of the sampled titles the affix appeared when last counted.';
COMMENT ON COLUMN source_title_affixes.sample IS 'How many of the source''s most recent titles were sampled for that count.';
COMMENT ON COLUMN source_title_affixes.learned_at IS 'When the affix was first learned.';
COMMENT ON COLUMN source_title_affixes.last_seen_at IS 'When a refresh last found the affix in the sample.';
