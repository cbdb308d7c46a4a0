"""Imported by the process stage's forkserver before it forks the workers (`pool`): the extractor
and all it imports, and the language detector's model, loaded once (0.6 s of CPU a process) and
shared by every worker instead of loaded again by each on its first page."""

from contextlib import suppress

from pipeline.extraction import extract  # noqa: F401 (imported to be inherited by the workers)
from pipeline.extraction.language import load_detector

# Deliberately broad: the forkserver dies on any error here but an ImportError, and the whole
# pool with it. Left to each worker, the same error fails its pages one by one, each with the
# error stored, as any extractor crash does.
with suppress(Exception):
    load_detector()
