"""`python -m pipeline.cli`: the `newsdesk` command without its console script."""

import sys

from pipeline.cli.main import main
from pipeline.subprocesses import die_with_parent

die_with_parent("newsdesk")  # started by an Airflow task, which may be SIGKILLed
sys.exit(main())
