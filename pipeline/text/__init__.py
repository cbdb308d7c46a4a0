"""Pure text helpers with no I/O: URLs, dates, names and bylines, body text."""
