"""One page in, one article out: decoding, metadata, dates, authors, titles, body, provenance."""
