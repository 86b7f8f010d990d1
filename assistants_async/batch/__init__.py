"""The batch runner: many conversations at bounded, rate-limit-adaptive concurrency, with a
resumable JSONL results file. See ``docs/batch.md``.

    summary = await run_batch(client, items, assistant_id=..., results="results.jsonl")
"""

from ._limiter import AdaptiveLimit
from ._models import BatchItem, BatchProgress, BatchResult, BatchSummary, ResultStatus
from ._results import BatchResultsFileError, ResultsFile
from ._runner import DEFAULT_BATCH_RETRY, run_batch

__all__ = [
    "DEFAULT_BATCH_RETRY",
    "AdaptiveLimit",
    "BatchItem",
    "BatchProgress",
    "BatchResult",
    "BatchResultsFileError",
    "BatchSummary",
    "ResultStatus",
    "ResultsFile",
    "run_batch",
]
