"""Duplicates and stories: MinHash-LSH keys indexed in Postgres, confirmation, story originals."""
