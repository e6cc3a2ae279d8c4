"""An import as a job: queued in the request, run after it commits, followed from anywhere.

``queue_import`` records the job (QUEUED) in the caller's transaction; once that
has committed, ``run_queued`` runs the import in one transaction of its own (so
it stays all-or-nothing) while its progress goes to the job row in short
transactions beside it (``domain.progress``), where ``importJob`` and
``jobProgress`` read it from any process. The final state is written in the
import's own transaction, so it is seen exactly when the rows are. If the
import fails unexpectedly, nothing of it is written and the job says FAILED. A
job whose process dies stays RUNNING; importing the file again starts anew.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import UTC, datetime

from auth.caller import Caller
from db.session import Database
from domain.audit.service import append
from domain.imports.service import ImportOutcome, ImportPhase, J, RunImport, run_import
from domain.progress import JobKind, Tracker

log = logging.getLogger("stockgraph.imports")

# Imports running at once in this process. Each holds a pooled connection for its
# own transaction and takes a second one now and then for its progress: bounded
# here so that imports never take the whole pool (10) between them.
MAX_RUNNING = 2
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _slots() -> asyncio.Semaphore:
    """This event loop's semaphore (one per loop: a semaphore belongs to its loop)."""
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(MAX_RUNNING)
    return slots


async def run_queued(db: Database, caller: Caller, cmd: RunImport, job_id: int) -> None:
    """Run a queued import to its end; every outcome is recorded on the job, never raised."""
    track = Tracker(db, J, JobKind.IMPORT, caller.tenant_id, job_id)

    async def progress(phase: ImportPhase, done: int, total: int | None, percent: int) -> None:
        await track.progress(phase, done, total, percent)  # a new phase is always written

    try:
        async with _slots():  # waits QUEUED while others run
            await track.update(ImportPhase.VALIDATING, 0, None, 1, force=True, status="RUNNING")
            async with db.tenant_transaction(caller.tenant_id) as session:
                outcome: ImportOutcome = await run_import(session, caller, cmd, progress, job_id)
                await append(session, caller, outcome.audit())
    except Exception as error:  # recorded on the job for the caller to see
        log.exception("import job %s failed", job_id)
        problem = {
            "row": None,
            "column": None,
            "code": "FAILED",
            "value": None,
            "message": f"{type(error).__name__}: {error}"[:1000],
        }
        await track.update(
            ImportPhase.DONE,
            0,
            None,
            100,
            force=True,
            status="FAILED",
            error_count=1,
            errors=[problem],
            finished_at=datetime.now(UTC),
        )
