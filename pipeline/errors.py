"""The one exception type the CLI turns into a one-line message instead of a traceback."""


class NewsdeskError(Exception):
    """A user-facing failure: bad config, unreachable database, unknown source.

    The message is one line and names the culprit (file, source, field, URL).
    """
