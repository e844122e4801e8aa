"""Loaded by worker processes of the kill test (``--import``): makes each analysis slow.

Each run notes its start in ``$PIPELINE_TEST_MARKERS/starts`` and then sleeps
``$PIPELINE_TEST_SLEEP`` seconds before the real analysis, so a test can kill the worker while
an asset is surely mid-pipeline.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from meadhall.library.pipeline import tasks
from meadhall.library.pipeline.analysis import Analysis, Original, analyse


def _slow_analyse(original: Original) -> Analysis:
    markers = Path(os.environ["PIPELINE_TEST_MARKERS"])
    with (markers / "starts").open("a") as handle:
        handle.write(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get("PIPELINE_TEST_SLEEP", "5")))
    result = analyse(original)
    with (markers / "dones").open("a") as handle:
        handle.write(f"{os.getpid()}\n")
    return result


tasks.analyse = _slow_analyse
