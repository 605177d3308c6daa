"""``txng ledger …``, ``txng witness`` and ``txng verify``: registered in ``txng.cli.main``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.orm import Session, sessionmaker

from txng.config import get_settings
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.ledger import keys, notes, service
from txng.ledger import verify as verifier
from txng.ledger import witness as witness_mod

ledger_app = typer.Typer(help="The tamper-evident ledger (C9).", no_args_is_help=True)
console = Console()


def _factory() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(get_settings().sqlalchemy_url))


@ledger_app.command("drain")
def drain() -> None:
    """Seal every queued record in the log (safe to run beside the server)."""
    count = service.drain(_factory())
    console.print(f"Sealed {count} records.")


@ledger_app.command("checkpoint")
def checkpoint() -> None:
    """Seal what is queued and sign a checkpoint of the current tree now."""
    factory = _factory()
    service.drain(factory)
    ring = keys.load(get_settings())
    with session_scope(factory) as session:
        cp = service.sign_checkpoint(session, keyring=ring)
        note = cp.note
    print(note, end="")  # noqa: T201


@ledger_app.command("keygen")
def keygen(
    name: Annotated[str, typer.Option(help="Key name, e.g. yte.bacninh.gov.vn/witness")],
    out: Annotated[Path, typer.Option(help="Private key file (FILE.pub gets the public key).")],
    witness: bool = typer.Option(
        False, help="A witness key (cosignature/v1) rather than a log key."
    ),
) -> None:
    """Generate an Ed25519 note key: the private key file and its verifier key."""
    if out.exists():
        console.print(f"[red]{out} exists; not overwriting a key.[/red]")
        raise typer.Exit(1)
    signer = notes.generate(name, alg=notes.ALG_COSIGNATURE_V1 if witness else notes.ALG_ED25519)
    keys.write_key(out, signer)
    print(signer.verifier.vkey)  # noqa: T201


@ledger_app.command("audit")
def audit() -> None:
    """Recompute every leaf from today's database; exit 1 when any record was changed."""
    factory = _factory()
    with session_scope(factory) as session, Progress(console=console, transient=True) as bar:
        size, _ = service.tree_head(session)
        task = bar.add_task("Auditing the ledger", total=size)
        problems = service.audit(session, progress=lambda n: bar.update(task, completed=n))
    for p in problems:
        console.print(f"[red]leaf {p.leaf_index}: {p.kind} {p.ref}: {p.problem}[/red]")
    if problems:
        console.print(f"[red]{len(problems)} problem(s) in a ledger of {size} leaves.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]All {size} leaves match the database.[/green]")


def witness(
    key: Annotated[Path, typer.Option(help="The witness's private key file.")],
    log_url: Annotated[str, typer.Option(help="Base URL of the log, e.g. http://127.0.0.1:8000")],
    state: Annotated[Path, typer.Option(help="State file: the last tree this witness cosigned.")],
    log_key: Annotated[list[str], typer.Option(help="The log's verifier key, or a file with it.")],
    origin: str | None = typer.Option(None, help="Refuse checkpoints of another origin."),
    interval: float = typer.Option(10.0, help="Seconds between checks."),
    once: bool = typer.Option(False, help="Check once and exit."),
    exit_with_parent: bool = typer.Option(
        False, hidden=True, help="Stop when the process that started it is gone (the demo)."
    ),
) -> None:
    """Run a witness for another agency: verify the log's consistency and cosign."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    verifiers = [
        notes.parse_verifier(Path(k).read_text() if Path(k).is_file() else k) for k in log_key
    ]
    signer = keys.read_signer(key)
    client = witness_mod.HttpLogClient(log_url)
    status = witness_mod.run(
        client=client,
        signer=signer,
        log_verifiers=verifiers,
        state_path=state,
        interval=interval,
        once=once,
        origin=origin,
        exit_with_parent=exit_with_parent,
    )
    raise typer.Exit(status)


def verify(
    bundle: Annotated[Path, typer.Argument(help="A bundle from GET /api/ledger/bundle.")],
    log_key: Annotated[
        list[str] | None,
        typer.Option(help="Pin the log's verifier key (else the bundle's own keys are used)."),
    ] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option(help="Pin the witnesses' verifier keys.")
    ] = None,
) -> None:
    """Check a record's bundle offline: record, inclusion proof, checkpoint, cosignatures."""
    data = json.loads(bundle.read_text())
    report = verifier.verify_bundle(
        data, trusted_log_keys=log_key or None, trusted_witness_keys=witness_key or None
    )
    if not report.ok:
        for error in report.errors:
            console.print(f"[red]✗ {error}[/red]")
        raise typer.Exit(1)
    console.print(
        f"[green]✓ leaf {report.leaf_index} is in tree {report.tree_size}, signed by "
        f"{report.log_key}; {report.cosignatures} of {report.quorum} witness cosignatures "
        f"({', '.join(report.witnesses) or '—'}).[/green]"
    )
    if not report.final:
        console.print("[yellow]The checkpoint has not reached its witness quorum yet.[/yellow]")
