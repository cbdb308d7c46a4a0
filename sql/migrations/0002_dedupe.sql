-- Deduplication: stories (an article and its copies across sources), the LSH band index for
-- near-duplicates, confirmed duplicate pairs, article versions, and the analyst views on them.

CREATE TABLE stories (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    original_article_id  bigint,
    original_reason      text CHECK (original_reason IN
                             ('rel-canonical', 'credit-line', 'wire-byline', 'earliest')),
    article_count        integer NOT NULL DEFAULT 1 CHECK (article_count >= 0),
    source_count         integer NOT NULL DEFAULT 1 CHECK (source_count >= 0),
    first_published_at   timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stories IS 'One row per story: an article and every copy of it found across sources (exact and near duplicates). An article with no copies is a story of one.';
COMMENT ON COLUMN stories.id IS 'Surrogate key, referenced by articles.story_id. When two stories turn out to be one, the lower id is kept.';
COMMENT ON COLUMN stories.original_article_id IS 'The story''s original: the article an explicit signal of the copies points at (rel=canonical, credit line, wire byline), else the earliest published.';
COMMENT ON COLUMN stories.original_reason IS 'Why the original was chosen: rel-canonical, credit-line, wire-byline or earliest.';
COMMENT ON COLUMN stories.article_count IS 'Articles in the story.';
COMMENT ON COLUMN stories.source_count IS 'Distinct sources that carried the story.';
COMMENT ON COLUMN stories.first_published_at IS 'The earliest published_at of the story''s articles (UTC).';
COMMENT ON COLUMN stories.created_at IS 'When the story was first seen.';
COMMENT ON COLUMN stories.updated_at IS 'When the story last gained an article or changed its original.';

ALTER TABLE articles
    ADD COLUMN story_id      bigint REFERENCES stories (id) ON DELETE SET NULL,
    ADD COLUMN provenance    text CHECK (provenance IN ('rel-canonical', 'credit-line', 'wire-byline')),
    ADD COLUMN original_url  text,
    ADD COLUMN credited_to   text;
ALTER TABLE stories ADD FOREIGN KEY (original_article_id) REFERENCES articles (id) ON DELETE SET NULL;
CREATE INDEX articles_story ON articles (story_id);
CREATE INDEX articles_undeduped ON articles (id) WHERE story_id IS NULL;
COMMENT ON COLUMN articles.story_id IS 'The story the article belongs to; null until deduplicated (newsdesk dedupe fills it for older rows).';
COMMENT ON COLUMN articles.provenance IS 'The page''s own signal that it is a copy: rel-canonical (a cross-site canonical link), credit-line ("originally appeared on ...") or wire-byline; null when none.';
COMMENT ON COLUMN articles.original_url IS 'The original''s URL the page declares (cross-site rel=canonical, or the credit line''s link), normalised.';
COMMENT ON COLUMN articles.credited_to IS 'The publisher or wire service the page credits (credit line or wire byline), as written.';

-- The near-duplicate index. No foreign key on article_id: it would need a second index on
-- article_id (about a third more storage) only to make deleting an article fast; the candidate
-- query joins articles, so rows of a deleted article are ignored, and `newsdesk dedupe --rebuild`
-- rewrites the table. The primary key is the (band, hash) lookup index.
CREATE TABLE article_bands (
    band        smallint NOT NULL,
    hash        bigint NOT NULL,
    article_id  bigint NOT NULL,
    PRIMARY KEY (band, hash, article_id)
);
COMMENT ON TABLE article_bands IS 'LSH index of the MinHash signatures of article bodies: articles sharing a (band, hash) are near-duplicate candidates. Rebuilt by newsdesk dedupe --rebuild when the dedupe settings change.';
COMMENT ON COLUMN article_bands.band IS 'Band number 0..bands-1; the band numbered bands holds the keys of the first paragraphs'' openings (finds teasers and truncated copies).';
COMMENT ON COLUMN article_bands.hash IS 'BLAKE2b (64 bits) of the band''s MinHash values, or of a paragraph opening.';
COMMENT ON COLUMN article_bands.article_id IS 'The article (articles.id).';

CREATE TABLE duplicate_pairs (
    article_id   bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    other_id     bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('exact', 'near')),
    jaccard      real NOT NULL,
    containment  real NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, other_id),
    CHECK (article_id < other_id)
);
CREATE INDEX duplicate_pairs_other ON duplicate_pairs (other_id);
COMMENT ON TABLE duplicate_pairs IS 'Confirmed duplicate pairs, the evidence behind each story: two articles with the same body (exact) or similar enough word shingles (near).';
COMMENT ON COLUMN duplicate_pairs.article_id IS 'The lower article id of the pair.';
COMMENT ON COLUMN duplicate_pairs.other_id IS 'The higher article id of the pair.';
COMMENT ON COLUMN duplicate_pairs.kind IS 'exact: the same normalised body (content_hash); near: shingle Jaccard or containment above the configured thresholds.';
COMMENT ON COLUMN duplicate_pairs.jaccard IS 'Jaccard similarity of the two bodies'' word-shingle sets (1 for exact).';
COMMENT ON COLUMN duplicate_pairs.containment IS 'Share of the smaller body''s shingles found in the larger (1 for exact; high for teasers and cut copies).';
COMMENT ON COLUMN duplicate_pairs.found_at IS 'When the pair was confirmed.';

CREATE TABLE article_versions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id         bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    title              text,
    description        text,
    authors            text[] NOT NULL,
    published_at       timestamptz,
    modified_at        timestamptz,
    body               text NOT NULL,
    word_count         integer NOT NULL,
    body_chars         integer NOT NULL,
    content_hash       text NOT NULL,
    fetched_at         timestamptz NOT NULL,
    extractor_version  text NOT NULL,
    raw_page_id        bigint,
    changed            text[] NOT NULL,
    cause              text NOT NULL CHECK (cause IN ('refetch', 'reprocess')),
    replaced_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX article_versions_article ON article_versions (article_id, id);
COMMENT ON TABLE article_versions IS 'Earlier versions of articles: written when a stored article''s body, title or dates change; the articles row always holds the newest.';
COMMENT ON COLUMN article_versions.id IS 'Surrogate key; ascending in the order versions were replaced.';
COMMENT ON COLUMN article_versions.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_versions.title IS 'The headline of this earlier version.';
COMMENT ON COLUMN article_versions.description IS 'The standfirst of this earlier version.';
COMMENT ON COLUMN article_versions.authors IS 'The authors of this earlier version.';
COMMENT ON COLUMN article_versions.published_at IS 'published_at of this earlier version (UTC).';
COMMENT ON COLUMN article_versions.modified_at IS 'The modification date this earlier version declared (UTC).';
COMMENT ON COLUMN article_versions.body IS 'The body text of this earlier version.';
COMMENT ON COLUMN article_versions.word_count IS 'Words in this earlier version''s body.';
COMMENT ON COLUMN article_versions.body_chars IS 'Characters in this earlier version''s body.';
COMMENT ON COLUMN article_versions.content_hash IS 'content_hash of this earlier version''s body.';
COMMENT ON COLUMN article_versions.fetched_at IS 'When the page of this earlier version was fetched (UTC).';
COMMENT ON COLUMN article_versions.extractor_version IS 'The extractor version that produced this earlier version.';
COMMENT ON COLUMN article_versions.raw_page_id IS 'The raw page this earlier version was extracted from.';
COMMENT ON COLUMN article_versions.changed IS 'What the next version changed: any of body, title, description, authors, published_at, modified_at.';
COMMENT ON COLUMN article_versions.cause IS 'refetch: the publisher changed the page; reprocess: the same fetch extracted again (a newer extractor).';
COMMENT ON COLUMN article_versions.replaced_at IS 'When the newer version replaced this one.';

-- A trigger, not a CTE in the loader: it records a version whatever writes the row (the loader,
-- reprocessing, a manual fix), and the WHEN clause keeps it free for unchanged rows and for
-- dedupe's own updates (story_id, provenance).
CREATE FUNCTION articles_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed text[] := '{}';
BEGIN
    IF OLD.content_hash IS DISTINCT FROM NEW.content_hash THEN changed := changed || 'body'::text; END IF;
    IF OLD.title IS DISTINCT FROM NEW.title THEN changed := changed || 'title'::text; END IF;
    IF OLD.description IS DISTINCT FROM NEW.description THEN changed := changed || 'description'::text; END IF;
    IF OLD.authors IS DISTINCT FROM NEW.authors THEN changed := changed || 'authors'::text; END IF;
    IF OLD.published_at IS DISTINCT FROM NEW.published_at THEN changed := changed || 'published_at'::text; END IF;
    IF OLD.modified_at IS DISTINCT FROM NEW.modified_at THEN changed := changed || 'modified_at'::text; END IF;
    INSERT INTO article_versions (article_id, title, description, authors, published_at,
                                  modified_at, body, word_count, body_chars, content_hash,
                                  fetched_at, extractor_version, raw_page_id, changed, cause)
    VALUES (OLD.id, OLD.title, OLD.description, OLD.authors, OLD.published_at, OLD.modified_at,
            OLD.body, OLD.word_count, length(OLD.body), OLD.content_hash, OLD.fetched_at,
            OLD.extractor_version, OLD.raw_page_id, changed,
            CASE WHEN OLD.fetched_at IS DISTINCT FROM NEW.fetched_at THEN 'refetch' ELSE 'reprocess' END);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION articles_keep_version() IS 'Copies the replaced version of an article into article_versions.';
CREATE TRIGGER articles_keep_version AFTER UPDATE ON articles FOR EACH ROW
    WHEN ((OLD.content_hash, OLD.title, OLD.description, OLD.authors, OLD.published_at, OLD.modified_at)
          IS DISTINCT FROM
          (NEW.content_hash, NEW.title, NEW.description, NEW.authors, NEW.published_at, NEW.modified_at))
    EXECUTE FUNCTION articles_keep_version();

-- Analyst views.

CREATE VIEW story_members AS
SELECT a.story_id,
       a.id AS article_id,
       a.source,
       a.title,
       a.canonical_url,
       a.published_at,
       a.id = s.original_article_id AS is_original,
       CASE WHEN a.id = s.original_article_id THEN 'original'
            WHEN a.content_hash = o.content_hash THEN 'exact'
            ELSE 'near' END AS relation,
       a.published_at - o.published_at AS delay,
       a.provenance,
       s.article_count
  FROM articles a
  JOIN stories s ON s.id = a.story_id
  LEFT JOIN articles o ON o.id = s.original_article_id;
COMMENT ON VIEW story_members IS 'Every article with its story: whether it is the original, an exact or a near copy, and how long after the original it was published.';
COMMENT ON COLUMN story_members.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN story_members.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN story_members.source IS 'The article''s source.';
COMMENT ON COLUMN story_members.title IS 'The article''s headline.';
COMMENT ON COLUMN story_members.canonical_url IS 'The article''s canonical URL.';
COMMENT ON COLUMN story_members.published_at IS 'The article''s publication time (UTC).';
COMMENT ON COLUMN story_members.is_original IS 'True for the story''s original.';
COMMENT ON COLUMN story_members.relation IS 'original, exact (same body as the original) or near (a near-duplicate).';
COMMENT ON COLUMN story_members.delay IS 'published_at minus the original''s published_at (negative when a copy claims an earlier date).';
COMMENT ON COLUMN story_members.provenance IS 'The article''s own copy signal, if any (rel-canonical, credit-line, wire-byline).';
COMMENT ON COLUMN story_members.article_count IS 'Articles in the story.';

CREATE VIEW story_originals AS
SELECT s.id AS story_id,
       s.original_article_id,
       o.source AS original_source,
       o.title AS original_title,
       o.canonical_url AS original_url,
       o.published_at AS original_published_at,
       s.original_reason,
       s.article_count,
       s.source_count,
       (SELECT max(c.published_at) - o.published_at FROM articles c WHERE c.story_id = s.id)
           AS last_copy_delay
  FROM stories s
  JOIN articles o ON o.id = s.original_article_id
 WHERE s.article_count > 1;
COMMENT ON VIEW story_originals IS 'Stories with copies (more than one article): the original, why it was chosen, and how far the story spread.';
COMMENT ON COLUMN story_originals.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN story_originals.original_article_id IS 'The original article (articles.id).';
COMMENT ON COLUMN story_originals.original_source IS 'The original''s source.';
COMMENT ON COLUMN story_originals.original_title IS 'The original''s headline.';
COMMENT ON COLUMN story_originals.original_url IS 'The original''s canonical URL.';
COMMENT ON COLUMN story_originals.original_published_at IS 'When the original was published (UTC).';
COMMENT ON COLUMN story_originals.original_reason IS 'Why it is the original: rel-canonical, credit-line, wire-byline or earliest.';
COMMENT ON COLUMN story_originals.article_count IS 'Articles in the story.';
COMMENT ON COLUMN story_originals.source_count IS 'Distinct sources that carried the story.';
COMMENT ON COLUMN story_originals.last_copy_delay IS 'How long after the original the last copy appeared.';

CREATE VIEW story_spread AS
SELECT m.story_id,
       m.source,
       count(*) AS articles,
       bool_or(m.is_original) AS has_original,
       min(m.published_at) AS first_published_at,
       min(m.delay) AS delay
  FROM story_members m
 WHERE m.article_count > 1
 GROUP BY m.story_id, m.source;
COMMENT ON VIEW story_spread IS 'How each story with copies spread: one row per story and source, with how long after the original that source first carried it.';
COMMENT ON COLUMN story_spread.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN story_spread.source IS 'A source that carried the story.';
COMMENT ON COLUMN story_spread.articles IS 'The story''s articles on this source.';
COMMENT ON COLUMN story_spread.has_original IS 'True when this source published the original.';
COMMENT ON COLUMN story_spread.first_published_at IS 'When this source first carried the story (UTC).';
COMMENT ON COLUMN story_spread.delay IS 'How long after the original this source first carried it (zero for the original''s source).';
