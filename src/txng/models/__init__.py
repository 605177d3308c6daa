"""Every ORM model, re-exported so that Alembic and the repositories see one metadata."""

from txng.models.accounts import ApiKey, User, WebSession
from txng.models.audit import AuditEntry
from txng.models.base import Base
from txng.models.epcis import CaptureJob, EpcisEvent, EventIdent, EventLink, NamedQuery
from txng.models.guidance import GuidanceDocument
from txng.models.ledger import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerLeaf,
    LedgerNode,
    LedgerOutbox,
    LedgerState,
)
from txng.models.onboarding import Registration
from txng.models.registry import (
    Facility,
    Organisation,
    Product,
    ProductCategory,
    ProductCertification,
    ProductImage,
    StoredFile,
)
from txng.models.review import ReviewComment, ReviewItem, ReviewPolicy
from txng.models.stamps import (
    ProblemReport,
    Recall,
    RecallTarget,
    Stamp,
    StampRequest,
    StampScan,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "CaptureJob",
    "EpcisEvent",
    "EventIdent",
    "EventLink",
    "Facility",
    "GuidanceDocument",
    "LedgerCheckpoint",
    "LedgerCosignature",
    "LedgerLeaf",
    "LedgerNode",
    "LedgerOutbox",
    "LedgerState",
    "NamedQuery",
    "Organisation",
    "ProblemReport",
    "Product",
    "ProductCategory",
    "ProductCertification",
    "ProductImage",
    "Recall",
    "RecallTarget",
    "Registration",
    "ReviewComment",
    "ReviewItem",
    "ReviewPolicy",
    "Stamp",
    "StampRequest",
    "StampScan",
    "StoredFile",
    "User",
    "WebSession",
]
