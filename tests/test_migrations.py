"""The same Alembic migrations serve SQLite and PostgreSQL, up and down."""

from sqlalchemy import inspect

from txng.migrations import runner
from txng.models import Base


def test_upgrade_downgrade_upgrade(backend) -> None:
    runner.downgrade(backend.url, "base")
    assert set(inspect(backend.engine).get_table_names()) <= {"alembic_version"}
    runner.upgrade(backend.url)
    tables = set(inspect(backend.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_dropping_the_event_foreign_keys_keeps_every_event_and_index_row(backend) -> None:
    """Migration a7c3d9e46f06 rebuilds the event tables on SQLite: stored events, their
    identifier and link rows must all come through (a rebuild of epcis_event while the index
    tables still referred to it ON DELETE CASCADE would empty them)."""
    from sqlalchemy import func, select

    import factories as f
    from txng.accounts.roles import Principal, Role
    from txng.epcis import capture
    from txng.models import EpcisEvent, EventIdent, EventLink

    def counts() -> tuple[int, ...]:
        with backend.sessionmaker() as session:
            return tuple(
                int(session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (EpcisEvent, EventIdent, EventLink)
            )

    runner.downgrade(backend.url, "f6b2c8d35e05")
    try:
        with backend.sessionmaker() as session:
            org = f.enterprise(session).org
            principal = Principal(role=Role.ENTERPRISE_ADMIN, label="t", organisation_id=org.id)
            events = [
                {
                    "type": "ObjectEvent",
                    "action": "OBSERVE",
                    "eventTime": "2026-06-10T07:30:00.000+07:00",
                    "eventTimeZoneOffset": "+07:00",
                    "epcList": [f"urn:epc:id:sgtin:8930001.012345.{i}"],
                    "bizStep": "shipping",
                    "bizTransactionList": [
                        {"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:8930001000018:{i}"}
                    ],
                }
                for i in range(3)
            ]
            document = {
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-06-10T08:00:00.000+07:00",
                "epcisBody": {"eventList": events},
            }
            assert capture.capture(session, principal, document).job.stored_count == 3
            session.commit()
        before = counts()
        assert before == (3, 3, 3)
        runner.upgrade(backend.url)
        assert counts() == before
    finally:
        runner.upgrade(backend.url)
        _empty(backend)


def _empty(backend) -> None:
    from conftest import _empty_tables

    _empty_tables(backend)
