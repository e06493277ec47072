"""Recorded runs of the scheduled jobs, read the one way every feature reads them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun

from .results import JobRunView


async def last_runs_in(session: AsyncSession) -> tuple[JobRunView, ...]:
    """The latest run of each job that ever ran, by job name."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job).scalar_subquery()
    found = await session.scalars(select(JobRun).where(JobRun.id.in_(latest)).order_by(JobRun.job))
    return tuple(job_run_view(row) for row in found)


def job_run_view(row: JobRun) -> JobRunView:
    return JobRunView(
        job=row.job,
        holder=row.holder,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=row.outcome,
        counts=dict(row.counts or {}),
        error=row.error,
    )
