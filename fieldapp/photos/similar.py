"""Near-identical photos by perceptual hash, found through the band indexes on Photo
(fieldapp/domain/photohash.py): 68 index lookups, one select per band so that each
reads its index alone (an OR of the four would visit the table for every candidate).
The Hamming check runs inside the database on the index entries, so of the candidates
a band returns (about n / 964 for n stored photos) only the near-identical ones leave
it (bench/review_queue.py measures the growth)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from ..domain.photohash import NEAR_BITS, SEARCH_BITS, band_probes, bands, to_signed
from ..models import Photo

BAND_COLUMNS = (Photo.phash_b0, Photo.phash_b1, Photo.phash_b2, Photo.phash_b3)


class differing_bits(FunctionElement):
    """The bits two signed 64-bit hashes differ in: PostgreSQL's bit_count of their XOR,
    on SQLite `hamming64`, which each connection registers (fieldapp/__init__.py)."""
    type = Integer()
    inherit_cache = True
    name = "differing_bits"


@compiles(differing_bits)
def _sqlite_bits(element, compiler, **kw):
    return f"hamming64({compiler.process(element.clauses, **kw)})"


@compiles(differing_bits, "postgresql")
def _postgresql_bits(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"bit_count(CAST(({a} # {b}) AS BIT(64)))"


def candidates_query(phash: int, max_bits: int = SEARCH_BITS):
    """Stored photos within `max_bits` of this hash that share a band with it within
    one bit: (id, differing bits) rows, a photo once per band it shares."""
    bits = differing_bits(Photo.phash, literal(to_signed(phash), BigInteger()))
    return union_all(*(select(Photo.id, bits).where(column.in_(band_probes(value)),
                                                    bits <= max_bits)
                       for column, value in zip(BAND_COLUMNS, bands(phash))))


def similar_photos(session: Session, phash: int, *, exclude_id: int | None = None,
                   max_bits: int = NEAR_BITS, limit: int = 20) -> list[tuple[int, int]]:
    """(photo id, differing bits) of stored photos within `max_bits` of this hash,
    nearest first. The bands find every hash within SEARCH_BITS, so no more is asked."""
    max_bits = min(max_bits, SEARCH_BITS)
    rows = dict(session.execute(candidates_query(phash, max_bits)).all())
    rows.pop(exclude_id, None)
    return sorted(rows.items(), key=lambda row: (row[1], row[0]))[:limit]
