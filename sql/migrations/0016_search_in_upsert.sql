-- The loader builds articles.search_vector in its upsert (issue 22), instead of leaving it null
-- for newsdesk_index_search() to fill in a second pass: that pass rewrote every new row (a new
-- row version, an entry in every index of articles, its WAL) just to add the vector, about as
-- much work as parsing the text. The stale trigger therefore nulls the vector only when the
-- text changes and the same update brings no vector of its own; other writers of the text
-- (reprocessing's field updates, a manual fix) still leave the article pending, and
-- newsdesk_index_search() still indexes what is pending.
CREATE OR REPLACE FUNCTION newsdesk_search_stale() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.language, NEW.title, NEW.description, NEW.body)
       IS DISTINCT FROM (OLD.language, OLD.title, OLD.description, OLD.body)
       AND NEW.search_vector IS NOT DISTINCT FROM OLD.search_vector THEN
        NEW.search_vector := NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION newsdesk_search_stale() IS 'Trigger: an article whose text or language changes, by an update that does not set its search_vector, becomes pending for search indexing again.';
COMMENT ON COLUMN articles.search_vector IS 'Full-text search document (newsdesk_search_document), built by the loader''s upsert; null while pending: after a change of text by another writer, until newsdesk_index_search() indexes it. Query it with search_articles().';
