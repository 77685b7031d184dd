"""Near-identical photos by perceptual hash, found through the band indexes on Photo
(fieldapp/domain/photohash.py): 68 index lookups, one select per band so that each
reads its index alone (an OR of the four would visit the table for every candidate),
and a Hamming check on what they return (bench/review_queue.py measures the growth)."""
from __future__ import annotations

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from ..domain.photohash import NEAR_BITS, SEARCH_BITS, band_probes, bands, hamming
from ..models import Photo

BAND_COLUMNS = (Photo.phash_b0, Photo.phash_b1, Photo.phash_b2, Photo.phash_b3)


def candidates_query(phash: int):
    """Stored photos sharing a band with this hash within one bit: (id, phash) rows,
    a photo once per band it shares."""
    return union_all(*(select(Photo.id, Photo.phash).where(column.in_(band_probes(value)))
                       for column, value in zip(BAND_COLUMNS, bands(phash))))


def similar_photos(session: Session, phash: int, *, exclude_id: int | None = None,
                   max_bits: int = NEAR_BITS, limit: int = 20) -> list[tuple[int, int]]:
    """(photo id, differing bits) of stored photos within `max_bits` of this hash,
    nearest first. The bands find every hash within SEARCH_BITS, so no more is asked."""
    max_bits = min(max_bits, SEARCH_BITS)
    rows = dict(session.execute(candidates_query(phash)).all())
    found = sorted((hamming(phash, h), pid) for pid, h in rows.items()
                   if pid != exclude_id and h is not None)
    return [(pid, bits) for bits, pid in found if bits <= max_bits][:limit]
