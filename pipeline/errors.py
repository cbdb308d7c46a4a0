"""The exception type the CLI turns into a one-line message instead of a traceback."""


class NewsdeskError(Exception):
    """A user-facing failure: bad config, unreachable database, unknown source.

    The message is one line and names the culprit (file, source, field, URL).
    """


class ReportedError(NewsdeskError):
    """A failure a child process has already reported on stderr in its own one line (the
    crawler's or the probe's usage error): the CLI adds no second line, a log keeps this one."""
