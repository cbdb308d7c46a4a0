"""Imported by the process stage's forkserver before it forks the workers (`pool`): the extractor
and all it imports, and the language detector's model, loaded once (0.6 s of CPU a process) and
shared by every worker instead of loaded again by each on its first page."""

from pipeline.extraction import extract  # noqa: F401 (imported to be inherited by the workers)
from pipeline.extraction.language import load_detector

load_detector()
