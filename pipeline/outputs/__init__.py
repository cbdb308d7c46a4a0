"""What analysts and operators read: the report, search, exports, WARC, the schema reference."""
