"""A witness: another agency's process that cosigns the log's checkpoints (``txng witness``).

Model: the witness *pulls*. It fetches the newest checkpoint, checks the log's signature, asks for
a consistency proof from the last tree it cosigned, verifies it, remembers the new tree in its
state file and posts its cosignature back. It never trusts the log's word: a tree that shrank, a
different root for the same size or a proof that does not verify raises an alarm, which is kept in
the state file (the witness refuses to cosign anything until an operator clears it) and makes the
process exit non-zero. A witness that was down simply cosigns the newest checkpoint when it comes
back: consistency from its last size covers everything in between.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from txng.ledger import merkle, notes

log = logging.getLogger("txng.witness")


class WitnessAlarm(Exception):
    """The log misbehaved (forked, shrank, bad proof or signature): do not cosign."""


class LogUnavailable(Exception):
    """The log could not be reached; try again later."""


class LogClient(Protocol):
    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]: ...


class HttpLogClient:
    """The log's API over HTTP(S), with the standard library only."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the log URL must be http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, request: urllib.request.Request) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data: dict[str, Any] = json.loads(response.read())
                return data
        except urllib.error.HTTPError as exc:
            raise LogUnavailable(f"{request.full_url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise LogUnavailable(f"{request.full_url}: {exc}") from exc

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._call(urllib.request.Request(self.base_url + path + query))  # noqa: S310

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310
            self.base_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._call(request)


@dataclass
class WitnessState:
    size: int = 0
    root: str = base64.b64encode(merkle.EMPTY_ROOT).decode("ascii")
    alarm: str | None = None


def load_state(path: Path) -> WitnessState:
    if not path.exists():
        return WitnessState()
    data = json.loads(path.read_text())
    return WitnessState(int(data["size"]), str(data["root"]), data.get("alarm"))


def save_state(path: Path, state: WitnessState) -> None:
    """Write atomically: a crash never leaves a half-written state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(asdict(state)))
    os.replace(tmp, path)


@dataclass(frozen=True)
class Outcome:
    size: int
    cosigned: bool
    cosignatures: int
    final: bool


def _alarm(state_path: Path, state: WitnessState, message: str) -> WitnessAlarm:
    state.alarm = message
    save_state(state_path, state)
    log.error("ALARM: %s — refusing to cosign", message)
    return WitnessAlarm(message)


def witness_once(
    *,
    client: LogClient,
    signer: notes.Signer,
    log_verifiers: Sequence[notes.Verifier],
    state_path: Path,
    origin: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Outcome:
    """Check the newest checkpoint against the last one cosigned, and cosign it."""
    state = load_state(state_path)
    if state.alarm:
        raise WitnessAlarm(state.alarm)
    data = client.get_json("/api/ledger/checkpoint")
    try:
        body, good, _ = notes.verify_note(str(data["note"]), log_verifiers)
        if not any(g.verifier in log_verifiers for g in good):
            raise notes.NoteError("no signature by a known log key")
        checkpoint = notes.parse_checkpoint(body)
    except (KeyError, notes.NoteError) as exc:
        raise _alarm(state_path, state, f"bad checkpoint: {exc}") from exc
    if origin is not None and checkpoint.origin != origin:
        raise _alarm(state_path, state, f"checkpoint of another log: {checkpoint.origin}")
    old_root = base64.b64decode(state.root)
    if checkpoint.size < state.size:
        raise _alarm(
            state_path, state, f"the log shrank from {state.size} to {checkpoint.size} leaves"
        )
    if checkpoint.size > state.size and state.size > 0:
        reply = client.get_json(
            "/api/ledger/proof/consistency", {"first": state.size, "second": checkpoint.size}
        )
        proof = [base64.b64decode(p) for p in reply.get("consistency_proof", [])]
    else:
        proof = []
    try:
        merkle.verify_consistency(state.size, checkpoint.size, old_root, checkpoint.root, proof)
    except merkle.ProofError as exc:
        raise _alarm(
            state_path, state, f"tree {checkpoint.size} does not extend tree {state.size}: {exc}"
        ) from exc
    state.size = checkpoint.size
    state.root = base64.b64encode(checkpoint.root).decode("ascii")
    save_state(state_path, state)
    already = [c for c in data.get("cosignatures", []) if c.get("witness") == signer.name]
    if already and data.get("tree_size") == checkpoint.size:
        count = len(data.get("cosignatures", []))
        return Outcome(checkpoint.size, False, count, bool(data.get("final")))
    line = notes.cosignature_line(signer, body, int(clock()))
    reply = client.post_json("/api/ledger/cosign", {"checkpoint": body, "cosignature": line})
    log.info("cosigned tree size %s", checkpoint.size)
    return Outcome(
        checkpoint.size, True, len(reply.get("cosignatures", [])), bool(reply.get("final"))
    )


def run(
    *,
    client: LogClient,
    signer: notes.Signer,
    log_verifiers: Sequence[notes.Verifier],
    state_path: Path,
    interval: float,
    once: bool = False,
    origin: str | None = None,
    exit_with_parent: bool = False,
) -> int:
    """The witness loop; returns the exit status (2 on alarm)."""
    parent = os.getppid()
    while True:
        if exit_with_parent and os.getppid() != parent:
            return 0
        try:
            outcome = witness_once(
                client=client,
                signer=signer,
                log_verifiers=log_verifiers,
                state_path=state_path,
                origin=origin,
            )
            log.info("tree %s: %s cosignatures", outcome.size, outcome.cosignatures)
        except WitnessAlarm:
            return 2
        except LogUnavailable as exc:
            log.warning("log unavailable: %s", exc)
            if once:
                return 1
        if once:
            return 0
        time.sleep(interval)
