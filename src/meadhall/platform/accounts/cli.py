"""``meadhall user create|list|disable`` and ``meadhall invite create``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import TypeAdapter, ValidationError
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.config import Settings
from meadhall.platform.accounts import service
from meadhall.platform.accounts.models import Invite, User
from meadhall.platform.accounts.schemas import DisplayName, Email, Password
from meadhall.platform.errors import MeadhallError
from meadhall.platform.runtime import Runtime

user_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
invite_app = typer.Typer(help="Invite people to register.", no_args_is_help=True)

# 1: the request was refused (duplicate e-mail, unknown user); 2: bad arguments.
EXIT_REFUSED = 1
EXIT_USAGE = 2

T = TypeVar("T")


def _fail(message: str, code: int) -> typer.Exit:
    from meadhall.platform.console import err_console

    err_console.print(f"[bold red]meadhall:[/] {message}")
    return typer.Exit(code)


def _valid(adapter: TypeAdapter[T], value: object, what: str) -> T:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        reason = "; ".join(str(e["msg"]) for e in exc.errors())
        raise _fail(f"invalid {what}: {reason}", EXIT_USAGE) from None


def _in_transaction(settings: Settings, work: Callable[[AsyncSession, Runtime], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on the configured database."""
    from meadhall.platform.console import command_runtime

    async def run() -> T:
        # The whole runtime, not just the database: events then reach the API processes.
        async with command_runtime(settings) as runtime, runtime.db.transaction() as session:
            return await work(session, runtime)

    try:
        return asyncio.run(run())
    except MeadhallError as exc:
        raise _fail(exc.message, EXIT_REFUSED) from None


@user_app.command("create")
def create_user(
    email: Annotated[str, typer.Argument(help="The new account's e-mail address.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the account an admin.")] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: before the @).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="The password (asked for when not given: keeps it out of history)."),
    ] = None,
) -> None:
    """Create an account, without an invite."""
    from meadhall.platform.console import console, settings_or_exit

    address = _valid(TypeAdapter(Email), email, "e-mail address")
    display_name = _valid(TypeAdapter(DisplayName), name or address.split("@")[0], "name")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    secret = _valid(TypeAdapter(Password), password, "password (8 to 256 characters)")
    settings = settings_or_exit()

    async def work(session: AsyncSession, runtime: Runtime) -> User:
        return await service.create_user(
            session, email=address, password=secret, display_name=display_name, is_admin=admin
        )

    user = _in_transaction(settings, work)
    role = "admin" if user.is_admin else "user"
    console.print(f"created {role} [bold]{user.email}[/] ({user.id})")


@user_app.command("list")
def list_users(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many accounts.")] = 200,
) -> None:
    """Show the accounts, oldest first."""
    from meadhall.platform.console import console, settings_or_exit

    settings = settings_or_exit()

    async def work(session: AsyncSession, runtime: Runtime) -> tuple[list[User], int]:
        users, total = await service.list_users(session, limit=limit, offset=0)
        return list(users), total

    users, total = _in_transaction(settings, work)
    table = Table(title=f"Accounts ({len(users)} of {total})")
    table.add_column("email", no_wrap=True, min_width=12)
    table.add_column("name", min_width=8)
    for column in ("admin", "active", "created", "last login"):
        table.add_column(column, no_wrap=True)
    table.add_column("id", overflow="fold")
    for user in users:
        table.add_row(
            user.email,
            user.display_name,
            "yes" if user.is_admin else "",
            "yes" if user.is_active else "[red]no[/]",
            user.created_at.strftime("%Y-%m-%d %H:%M"),
            user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never",
            str(user.id),
        )
    console.print(table)


@user_app.command("disable")
def disable_user(
    email: Annotated[str, typer.Argument(help="The e-mail address of the account.")],
) -> None:
    """Disable an account: it cannot sign in and every session of it ends."""
    from meadhall.platform.console import console, settings_or_exit

    settings = settings_or_exit()

    async def work(session: AsyncSession, runtime: Runtime) -> User:
        return await service.disable_user_by_email(session, bus=runtime.bus, email=email.strip())

    user = _in_transaction(settings, work)
    console.print(f"disabled [bold]{user.email}[/]")


@invite_app.command("create")
def create_invite(
    uses: Annotated[int, typer.Option("--uses", min=1, max=1000, help="How many people.")] = 1,
    expires_hours: Annotated[
        int | None,
        typer.Option("--expires-hours", min=1, max=24 * 366, help="Valid for this many hours."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note for the invite list.")] = None,
) -> None:
    """Create an invite and print its code and registration link (shown only now)."""
    from meadhall.platform.console import console, settings_or_exit

    if note is not None and len(note) > 200:
        raise _fail("the note may be at most 200 characters", EXIT_USAGE)
    settings = settings_or_exit()

    async def work(session: AsyncSession, runtime: Runtime) -> tuple[Invite, str]:
        return await service.create_invite(
            session, created_by_id=None, max_uses=uses, expires_in_hours=expires_hours, note=note
        )

    invite, code = _in_transaction(settings, work)
    expiry = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC") if invite.expires_at else "never"
    console.print(f"invite code: [bold]{code}[/]", soft_wrap=True)
    console.print(f"register at: {settings.base_url}/register?invite={code}", soft_wrap=True)
    console.print(f"uses: {invite.max_uses}, expires: {expiry}")
