"""Perceptual hashes as plain integers: Hamming distance and the bands that make a
near-duplicate search an index lookup (multi-index hashing, Norouzi et al. 2012).

A 64-bit hash is split into four 16-bit bands. Two hashes within 7 bits of each other
differ by at most 1 bit in at least one band (four bands of 2 or more would make 8), so
probing each band's index for its value and its 16 one-bit neighbours (68 exact
lookups) finds every hash within 7 bits; a Hamming check on those candidates decides."""
from __future__ import annotations

BANDS = 4
BAND_BITS = 16
# Found for sure by the band probes: one bit per band, in every band.
SEARCH_BITS = BANDS * 2 - 1
# Near-identical: a re-compressed or resized copy differs by 0-2 bits, a re-take from
# the same spot by 4-6; photos of other doors, however alike, by 10 or more
# (tests/test_review_flags.py holds both kinds of pictures). As many as the bands find.
NEAR_BITS = SEARCH_BITS
_MASK = (1 << BAND_BITS) - 1
_MASK64 = (1 << 64) - 1


def to_signed(h: int) -> int:
    """A 64-bit hash, signed or not, as the signed integer a BIGINT column holds."""
    h = to_unsigned(h)
    return h - (1 << 64) if h >= 1 << 63 else h


def to_unsigned(h: int) -> int:
    return h & _MASK64


def bands(h: int) -> tuple[int, ...]:
    """The four 16-bit bands, most significant first."""
    h = to_unsigned(h)
    return tuple((h >> (BAND_BITS * (BANDS - 1 - i))) & _MASK for i in range(BANDS))


def band_probes(value: int) -> list[int]:
    """A band's value and every value one bit away from it."""
    return [value] + [value ^ (1 << bit) for bit in range(BAND_BITS)]


def hamming(a: int, b: int) -> int:
    return (to_unsigned(a) ^ to_unsigned(b)).bit_count()


def hamming_of_stored(a: int | None, b: int | None) -> int | None:
    """Hamming distance of two stored (signed) hashes, NULL if either is: the SQLite
    function `hamming64` (PostgreSQL has bit_count)."""
    return None if a is None or b is None else hamming(a, b)
