-- Per-source learned boilerplate: body lines that recur across many of one source's articles
-- (newsletter and follow-us lines, copyright notes, "Exit mobile version"), removed from bodies.

CREATE TABLE source_boilerplate (
    source         text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    line_key       text NOT NULL,
    line           text NOT NULL,
    pages          integer NOT NULL CHECK (pages > 0),
    sample         integer NOT NULL CHECK (sample >= pages),
    learned_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, line_key)
);
COMMENT ON TABLE source_boilerplate IS 'Body lines learned as one source''s page furniture: each recurs in a large share of the source''s recent articles. The extractor removes them from that source''s bodies; refreshed after every process run. Delete a row to stop removing its line.';
COMMENT ON COLUMN source_boilerplate.source IS 'The source whose pages repeat the line.';
COMMENT ON COLUMN source_boilerplate.line_key IS 'Hash of the line after NFKC, case-folding and whitespace folding (what the extractor compares).';
COMMENT ON COLUMN source_boilerplate.line IS 'The line as it appeared in a body, for people reading this table.';
COMMENT ON COLUMN source_boilerplate.pages IS 'In how many of the sampled articles the line appeared when last counted.';
COMMENT ON COLUMN source_boilerplate.sample IS 'How many of the source''s most recent articles were sampled for that count.';
COMMENT ON COLUMN source_boilerplate.learned_at IS 'When the line was first learned.';
COMMENT ON COLUMN source_boilerplate.last_seen_at IS 'When a refresh last found the line in the sample (still on the site''s pages).';
