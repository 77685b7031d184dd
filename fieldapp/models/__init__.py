"""The domain model: typed SQLAlchemy 2 mappings, one module per area."""
from .base import utcnow
from .estate import (
                     DEFAULT_BANDS,
                     POLICY_FIELDS,
                     Bill,
                     Building,
                     Community,
                     Contact,
                     ContactKind,
                     Occupancy,
                     Payment,
                     Policy,
                     PolicyVersion,
                     Unit,
                     UnitUse,
)
from .estate_version import EstateVersion
from .overdue_tally import OverdueTally, OverdueTallyChange
from .imports import HeaderAlias, ImportJob, ImportKind, ImportStatus
from .notices import Notice, NoticeBatch, NoticeCounter, NoticeTemplate, StatementLink
from .people import Assignment, AuditEvent, LoginSession, LoginThrottle, Role, User, record_audit
from .promises import InstallmentPlan, PlanStatus, Promise, PromiseStatus, Waiver, WaiverStatus
from .review import (
                     CorrectionPhoto,
                     Decision,
                     FlagKind,
                     ReviewDecision,
                     ReviewStatus,
                     VisitCorrection,
                     VisitFlag,
)
from .visits import (
                     Delivery,
                     FieldPayment,
                     NoticeType,
                     Outcome,
                     Photo,
                     Reason,
                     ServiceCategory,
                     Visit,
                     VisitPhoto,
)
from .workorders import (
                     Complaint,
                     ComplaintPhoto,
                     WorkOrder,
                     WorkOrderEvent,
                     WorkOrderPhoto,
                     WorkOrderStatus,
)

__all__ = [
    "Assignment", "AuditEvent", "Bill", "Building", "Community", "Complaint", "ComplaintPhoto",
    "Contact", "ContactKind", "CorrectionPhoto", "DEFAULT_BANDS", "Decision", "Delivery",
    "EstateVersion", "FieldPayment", "FlagKind", "HeaderAlias", "ImportJob", "ImportKind", "ImportStatus",
    "LoginSession", "ReviewDecision", "ReviewStatus", "VisitCorrection", "VisitFlag",
    "LoginThrottle", "NoticeType", "Occupancy", "Outcome", "OverdueTally", "OverdueTallyChange",
    "Payment", "Photo", "Policy",
    "POLICY_FIELDS", "PolicyVersion",
    "Promise", "PromiseStatus", "InstallmentPlan", "PlanStatus", "Waiver", "WaiverStatus", "Reason", "Role", "ServiceCategory", "Unit", "UnitUse", "User",
    "Visit", "VisitPhoto", "WorkOrder", "WorkOrderEvent", "WorkOrderPhoto", "WorkOrderStatus",
    "record_audit", "utcnow",
    "Notice", "NoticeBatch", "NoticeCounter", "NoticeTemplate", "StatementLink",
]
