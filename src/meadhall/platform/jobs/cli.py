"""``meadhall worker`` and ``meadhall jobs list|retry``."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from meadhall.config import Settings

if TYPE_CHECKING:
    from meadhall.platform.jobs.schemas import JobRead

jobs_app = typer.Typer(help="See and retry background jobs.", no_args_is_help=True)

EXIT_NOT_FOUND = 1
EXIT_CONFLICT = 3
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def _split(values: list[str] | None) -> list[str]:
    names: list[str] = []
    for value in values or []:
        names.extend(part.strip() for part in value.split(",") if part.strip())
    return names


def worker(
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queues",
            "-q",
            help="Queues to serve, comma-separated (e.g. default,ml). Default: all queues.",
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Jobs run at the same time (default: setting)."),
    ] = None,
    imports: Annotated[
        list[str] | None,
        typer.Option(
            "--import",
            help="Extra module that registers job kinds (repeatable).",
        ),
    ] = None,
) -> None:
    """Run a job worker until stopped (Ctrl-C or SIGTERM lets running jobs finish)."""
    from meadhall.platform.console import console, err_console, settings_or_exit
    from meadhall.platform.jobs.worker import import_kinds
    from meadhall.platform.observability.logs import configure_logging

    queue_names = _split(queues) or None
    settings = settings_or_exit(worker_queues=queue_names, worker_concurrency=concurrency)
    configure_logging(settings.log_level, settings.log_format)
    try:
        import_kinds([*(settings.job_modules or ()), *_split(imports)])
    except ImportError as exc:
        err_console.print(f"[bold red]meadhall:[/] cannot import job kinds: {exc}")
        raise typer.Exit(2) from None
    console.print(
        f"[bold]Meadhall worker[/] on queues {', '.join(settings.worker_queues or ['(all)'])}, "
        f"concurrency {settings.worker_concurrency}"
    )
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    from meadhall.platform.console import command_runtime
    from meadhall.platform.jobs.worker import run_worker

    async with command_runtime(settings) as runtime:
        await run_worker(runtime, queues=settings.worker_queues)


@jobs_app.command("list")
def list_jobs(
    status: Annotated[
        str | None, typer.Option(help=f"Only jobs in this state: {', '.join(STATUSES)}.")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many (newest first).")] = 50,
) -> None:
    """Show the newest jobs."""
    from meadhall.platform.console import console, err_console, settings_or_exit

    if status is not None and status not in STATUSES:
        err_console.print(
            f"[bold red]meadhall:[/] unknown status {status!r} (one of {', '.join(STATUSES)})"
        )
        raise typer.Exit(2)
    settings = settings_or_exit()
    rows, total = asyncio.run(_list(settings, status=status, kind=kind, limit=limit))
    table = Table(title=f"Jobs ({len(rows)} of {total})")
    for column in ("id", "kind", "queue", "status", "prio", "attempts", "progress", "created"):
        table.add_column(column, no_wrap=column in {"id", "created"})
    for job in rows:
        style = {"failed": "red", "running": "cyan", "succeeded": "green"}.get(job.status, "")
        table.add_row(
            str(job.id),
            job.kind,
            job.queue,
            f"[{style}]{job.status}[/]" if style else job.status,
            str(job.priority),
            f"{job.attempts}/{job.max_attempts}",
            f"{job.progress:.0%}",
            job.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)


async def _list(
    settings: Settings, *, status: str | None, kind: str | None, limit: int
) -> tuple[list[JobRead], int]:
    from meadhall.platform.console import command_runtime
    from meadhall.platform.jobs import repository
    from meadhall.platform.jobs.schemas import JobRead

    async with command_runtime(settings) as runtime, runtime.db.sessionmaker() as session:
        jobs, total = await repository.list_jobs(
            session,
            owner_id=None,
            status=status,
            kind=kind,
            queue=None,
            limit=limit,
            offset=0,
        )
        return [JobRead.model_validate(job) for job in jobs], total


@jobs_app.command("retry")
def retry(
    job_id: Annotated[str, typer.Argument(help="The id of a failed or cancelled job.")],
) -> None:
    """Queue a failed or cancelled job again with a fresh attempts budget."""
    from meadhall.platform.console import console, err_console, settings_or_exit
    from meadhall.platform.errors import MeadhallError
    from meadhall.platform.jobs.errors import JobNotFound

    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        err_console.print(f"[bold red]meadhall:[/] {job_id!r} is not a job id")
        raise typer.Exit(2) from None
    settings = settings_or_exit()
    try:
        status = asyncio.run(_retry(settings, parsed))
    except JobNotFound:
        err_console.print(f"[bold red]meadhall:[/] no job {parsed}")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except MeadhallError as exc:
        err_console.print(f"[bold red]meadhall:[/] {exc.message}")
        raise typer.Exit(EXIT_CONFLICT) from None
    console.print(f"job {parsed} is {status} again")


async def _retry(settings: Settings, job_id: uuid.UUID) -> str:
    from meadhall.platform.console import command_runtime
    from meadhall.platform.jobs import service
    from meadhall.platform.jobs.worker import import_kinds

    import_kinds(settings.job_modules or ())
    async with command_runtime(settings) as runtime, runtime.db.transaction() as session:
        job = await service.retry_job(
            session, job_id=job_id, user_id=None, is_admin=True, bus=runtime.bus
        )
        return str(job.status)
