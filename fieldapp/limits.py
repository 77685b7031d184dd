"""Every bound on what one request may carry, in one table: photo bytes, pixels and
count, request totals, text lengths, numbers and ids. Routes and domain checks read
them from here, so a new route cannot take more than the visit form does."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

MIB = 1024 * 1024
# PostgreSQL `integer`: ids and fen amounts beyond it cannot exist in the database.
MAX_ID = 2**31 - 1
MAX_AMOUNT_FEN = 2**31 - 1
MAX_PAGE = 10_000

TEXT: Mapping[str, int] = MappingProxyType({
    "notes": 2000,  # visit notes
    "reason_detail": 500,
    "payment_ref": 64,
    "description": 2000,  # complaint
    "complaint_description": 2000,  # complaint filed from a visit
    "repair_notes": 2000,  # work order close
    "reason": 2000,  # work order reopen
    "note": 2000,  # work order note, owner's verdict
    "photo_meta": 2000,  # what the page reports about one photo, as JSON
    "search": 40,
    "review_comment": 500,  # what a supervisor asks to correct
    "correction_note": 2000,  # the housekeeper's correcting note
    "header_alias": 60,  # a column name a community's billing system uses
})


@dataclass(frozen=True)
class Limits:
    """What one request may carry. The photo figures bound the time and memory of one
    request's photo processing (bench/photo_budget.py measures them)."""

    photo_bytes: int = 15 * MIB  # one file as uploaded
    photo_pixels: int = 50_000_000  # one file, as its header declares (a 50 MP camera)
    photos_per_request: int = 8
    upload_bytes: int = 64 * MIB  # all files of one request together
    # Pixels actually decoded per request: a JPEG counts at its draft-mode scale (a
    # 48 MP phone JPEG decodes as 3 MP), HEIC twice (its decoder is slower), other
    # formats at full size. With the byte limits this keeps one request's photos under
    # 4 s and 400 MB (bench/photo_budget.py).
    decode_pixels: int = 64_000_000
    # The whole body; above it the request is refused unread (413). A little over
    # upload_bytes so that an over-size visit still comes back with its typed fields.
    request_bytes: int = 72 * MIB
    # One text field of a form; far above any text limit, refused unread (413).
    form_field_bytes: int = 256 * 1024
    # One file for the import page (a million bill rows as CSV is about 80 MB); only
    # that route takes a body this large, and it is stored to disk as it streams in.
    import_bytes: int = 200 * MIB
    text: Mapping[str, int] = field(default_factory=lambda: TEXT)

    def text_limit(self, name: str) -> int:
        return self.text[name]


DEFAULT = Limits()


def current_limits() -> Limits:
    """The app's limits (tests shrink them with `LIMITS=replace(DEFAULT, ...)`)."""
    from flask import current_app
    return current_app.config.get("LIMITS", DEFAULT)
