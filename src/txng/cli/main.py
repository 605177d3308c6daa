"""The ``txng`` command: demo, serve, database migrations."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from txng.config import Settings, get_settings
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.ledger import cli as ledger_cli
from txng.migrations import runner

app = typer.Typer(help="TXNG: provincial product traceability system.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ledger_cli.ledger_app, name="ledger")
app.command("witness")(ledger_cli.witness)
app.command("verify")(ledger_cli.verify)
console = Console()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    settings = get_settings()
    settings.ensure_dirs()
    runner.upgrade(settings.sqlalchemy_url, revision)
    console.print(f"[green]Database at {revision}[/green]")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="e.g. -1 or base")) -> None:
    """Migrate the database down to REVISION."""
    settings = get_settings()
    runner.downgrade(settings.sqlalchemy_url, revision)
    console.print(f"[yellow]Database at {revision}[/yellow]")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (PostgreSQL only for more than one)."),
    log_level: str = typer.Option("info", help="critical, error, warning, info, debug or trace."),
) -> None:
    """Serve the web application and API."""
    from txng.web import serving

    serving.serve(host=host, port=port, workers=workers, log_level=log_level)


def _load_demo_if_empty(settings: Settings) -> None:
    from txng.demo.data import load_demo
    from txng.models import Organisation

    engine = make_engine(settings.sqlalchemy_url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        if session.scalar(select(func.count()).select_from(Organisation)):
            console.print("Demo data already loaded; keeping the existing database.")
            console.print("Delete the folder var/ to start again from fresh demo data.")
            engine.dispose()
            return
        result = load_demo(session)
    engine.dispose()
    (settings.data_dir / "demo-logins.txt").write_text(
        "\n".join(f"{x.role}\t{x.email}\t{x.password}" for x in result.logins)
        + "\n"
        + "\n".join(f"api-key\t{org}\t{key}" for org, key in result.api_keys)
        + "\n"
        + (f"stamp\t{result.stamp_path}\n" if result.stamp_path else "")
    )
    (settings.data_dir / "demo-logins.txt").chmod(0o600)


def _print_logins(settings: Settings, host: str, port: int) -> None:
    path = settings.data_dir / "demo-logins.txt"
    if not path.exists():
        return
    logins = Table(title="Demo logins", show_lines=False)
    for col in ("role", "e-mail", "password"):
        logins.add_column(col)
    keys: list[tuple[str, str]] = []
    stamp_path = ""
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if parts[0] == "api-key":
            keys.append((parts[1], parts[2]))
        elif parts[0] == "stamp":
            stamp_path = parts[1]
        elif len(parts) == 3:
            logins.add_row(*parts)
    console.print(logins)
    console.print("\n[bold]Demo API keys[/bold] (send as: Authorization: Bearer <key>)")
    for organisation, key in keys:
        console.print(f"  {organisation}")
        # print() rather than rich: a key must never be wrapped or styled.
        print(f"    {key}")  # noqa: T201
    console.print(f"\n[bold green]TXNG demo on http://{host}:{port}[/bold green]  (Ctrl+C stops)")
    console.print(f"API documentation: http://{host}:{port}/docs\n")
    if stamp_path:
        console.print("[bold]An activated demo stamp[/bold] (open it as a consumer would):")
        print(f"  http://{host}:{port}{stamp_path}\n")  # noqa: T201 - never wrapped


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Create the embedded database under ./var, load demo data and serve it."""
    settings = get_settings()
    settings.ensure_dirs()
    console.print(f"Database: {settings.sqlalchemy_url}")
    runner.upgrade(settings.sqlalchemy_url)
    _load_demo_if_empty(settings)
    from txng.ledger import demo as ledger_demo  # sealed, signed, witnessed by two agencies

    settings = ledger_demo.prepare(settings, host=host, port=port)
    _print_logins(settings, host, port)
    serve(host=host, port=port, workers=1, log_level="info")


if __name__ == "__main__":
    app()
