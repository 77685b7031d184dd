"""A visit with one photo, recorded in-process by the tests or, run as a script, by a
process that is killed by SIGKILL at the moment of commit, after every row was sent.

    python -m tests.crash_visit DB_URL UPLOAD_DIR UNIT_ID USER_ID < photo.jpg
"""
from __future__ import annotations

import os
import signal
import sys
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fieldapp.domain.visits import check_visit
from fieldapp.models import Unit, User, Visit
from fieldapp.photos.evidence import Upload
from fieldapp.photos.storage import Storage
from fieldapp.visits.services import record_visit

from .factories import TODAY

SHANGHAI = ZoneInfo("Asia/Shanghai")


def visit_with_photo(session: Session, store: Storage, unit: Unit, user: User,
                     jpeg: bytes) -> Visit:
    """A promise with a reminder posted on the door, the photo as evidence."""
    form = {"client_uuid": str(uuid.uuid4()), "outcome": "promised", "reason": "hardship",
            "promise_date": "2026-12-05", "promise_amount": "500", "notice_type": "reminder",
            "delivery": "door", "notes": "贴门"}
    data = check_visit(form, photo_count=1, arrears_fen=unit.arrears_fen, today=TODAY,
                       promise_horizon_days=30)
    assert not data.errors, data.errors
    visit, created = record_visit(session, store, unit, user, data,
                                  [Upload("door.jpg", jpeg, {})], today=TODAY, tz=SHANGHAI)
    assert created
    return visit


def main(url: str, upload_dir: str, unit_id: int, user_id: int) -> None:
    from fieldapp import create_app
    from fieldapp.extensions import db
    from fieldapp.photos.storage import storage

    app = create_app({"TESTING": True, "SECRET_KEY": "crash", "SQLALCHEMY_DATABASE_URI": url,
                      "UPLOAD_DIR": upload_dir, "FIXED_TODAY": TODAY})
    with app.app_context():
        session = db.session()

        def die() -> None:
            session.flush()
            print("flushed, dying before commit", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        session.commit = die  # type: ignore[method-assign]
        unit, user = session.get(Unit, unit_id), session.get(User, user_id)
        visit_with_photo(session, storage(), unit, user, sys.stdin.buffer.read())
    sys.exit("record_visit returned without committing")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
