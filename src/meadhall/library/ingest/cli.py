"""``meadhall import PATH``: copy files from the server's disk into a user's library.

Each file goes through the same ingest as an upload (origin ``cli``): exact duplicates are
reported, not stored twice; unsupported or empty files are reported with their reason. The
exit status is 0 when no file failed, 1 when some did, 2 for bad arguments (a missing path,
an unknown user).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from meadhall.library.settings import library_settings

if TYPE_CHECKING:
    from meadhall.library.settings import LibrarySettings
    from meadhall.platform.runtime import Runtime

EXIT_FAILED = 1
EXIT_USAGE = 2
MAX_ATTRIBUTION = 500


@dataclass
class ImportSummary:
    imported: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    duplicates: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class UnknownUser(Exception):
    """The owner named on the command line does not exist."""


def collect_files(path: Path, *, recursive: bool) -> list[Path]:
    """The files to import under ``path`` (itself if a file), hidden ones left out, sorted."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    stack = [path]
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        stack.append(Path(entry.path))
                elif entry.is_file():
                    found.append(Path(entry.path))
    return sorted(found)


def _label(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base)) if base.is_dir() else path.name
    except ValueError:
        return str(path)


async def _owner(runtime: Runtime, email: str | None) -> uuid.UUID:
    from meadhall.library.ingest import repository
    from meadhall.platform.accounts.repository import user_by_email

    async with runtime.db.transaction() as session:
        if email is not None:
            user = await user_by_email(session, email.strip())
            if user is None:
                raise UnknownUser(f"no user with the e-mail {email!r}")
            return user.id
        owner = await repository.first_admin_id(session)
        if owner is None:
            raise UnknownUser("there is no user yet; create one or name one with --user")
        return owner


async def run_import(
    settings: LibrarySettings,
    *,
    files: list[Path],
    base: Path,
    email: str | None,
    attribution: str | None,
    console: Console,
) -> ImportSummary:
    """Import ``files`` for the user ``email`` (default: the first admin), with a progress bar."""
    from meadhall.library.ingest.service import ingest_file
    from meadhall.library.ingest.sniff import sniff_file
    from meadhall.library.ingest.spool import copy_and_hash
    from meadhall.library.models import Origin
    from meadhall.library.storage import LibraryStorage
    from meadhall.platform.console import command_runtime
    from meadhall.platform.errors import MeadhallError
    from meadhall.platform.jobs.worker import import_kinds

    import_kinds(settings.job_modules or ())
    summary = ImportSummary()
    async with command_runtime(settings) as runtime:
        owner_id = await _owner(runtime, email)
        storage = LibraryStorage(settings)
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("Importing", total=len(files))
            for path in files:
                label = _label(path, base)
                try:
                    # Unsupported files are refused before anything is copied.
                    if await asyncio.to_thread(sniff_file, path) is None:
                        size = (await asyncio.to_thread(path.stat)).st_size
                        summary.failed.append(
                            (label, "the file is empty" if size == 0 else "not a supported format")
                        )
                        continue
                    temp, sha256, _ = await asyncio.to_thread(copy_and_hash, path, storage)
                    async with runtime.db.transaction() as session:
                        result = await ingest_file(
                            session,
                            storage=storage,
                            settings=settings,
                            owner_id=owner_id,
                            temp_path=temp,
                            filename=path.name,
                            origin=Origin.CLI,
                            attribution=attribution,
                            sha256=sha256,
                        )
                    if result.asset is not None:
                        summary.imported.append((label, result.asset.id))
                    elif result.duplicate_of is not None:
                        summary.duplicates.append((label, result.duplicate_of))
                except MeadhallError as exc:
                    summary.failed.append((label, exc.message))
                except OSError as exc:
                    summary.failed.append((label, exc.strerror or str(exc)))
                finally:
                    progress.advance(task)
    return summary


def print_summary(summary: ImportSummary, console: Console) -> None:
    """The totals, then every duplicate and failure with its reason."""
    totals = Table(title="Import summary")
    totals.add_column("result")
    totals.add_column("files", justify="right")
    totals.add_row("[green]imported[/]", str(len(summary.imported)))
    totals.add_row("[yellow]duplicates[/]", str(len(summary.duplicates)))
    totals.add_row("[red]failed[/]", str(len(summary.failed)))
    console.print(totals)
    if summary.duplicates:
        table = Table(title="Duplicates (already in the library)")
        table.add_column("file")
        table.add_column("existing asset", no_wrap=True)
        for label, asset_id in summary.duplicates:
            table.add_row(label, str(asset_id))
        console.print(table)
    if summary.failed:
        table = Table(title="Failed")
        table.add_column("file")
        table.add_column("reason")
        for label, reason in summary.failed:
            table.add_row(label, reason)
        console.print(table)


def import_files(
    path: Annotated[Path, typer.Argument(help="A file, or a folder of files, to import.")],
    user: Annotated[
        str | None,
        typer.Option("--user", help="E-mail of the owner (default: the first admin)."),
    ] = None,
    attribution: Annotated[
        str | None, typer.Option(help="Who made these pictures or where they come from.")
    ] = None,
    recursive: Annotated[
        bool,
        typer.Option("--recursive/--no-recursive", help="Also import the folder's subfolders."),
    ] = True,
) -> None:
    """Import pictures and videos from the server's disk into a user's library."""
    from meadhall.platform.console import console, err_console, settings_or_exit

    if not path.exists():
        err_console.print(f"[bold red]meadhall:[/] no such file or folder: {path}")
        raise typer.Exit(EXIT_USAGE)
    if attribution is not None and len(attribution.strip()) > MAX_ATTRIBUTION:
        err_console.print(f"[bold red]meadhall:[/] --attribution: at most {MAX_ATTRIBUTION} chars")
        raise typer.Exit(EXIT_USAGE)
    try:
        files = collect_files(path, recursive=recursive)
    except OSError as exc:
        err_console.print(f"[bold red]meadhall:[/] cannot read {path}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_USAGE) from None
    settings = library_settings(settings_or_exit())
    try:
        summary = asyncio.run(
            run_import(
                settings,
                files=files,
                base=path,
                email=user,
                attribution=(attribution or "").strip() or None,
                console=console,
            )
        )
    except UnknownUser as exc:
        err_console.print(f"[bold red]meadhall:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    print_summary(summary, console)
    raise typer.Exit(EXIT_FAILED if summary.failed else 0)
