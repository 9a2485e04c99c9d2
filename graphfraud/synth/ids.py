"""Chinese identifier formats, vectorized.

Every function here that takes arrays returns a ``pyarrow`` string array built straight from
a fixed-width byte buffer, so that formatting ten million ids costs a few numpy operations
and no Python loop.

Formats (all fictional but shaped like the real ones):

* id number (居民身份证号, GB 11643-1999): 6-digit region + ``YYYYMMDD`` + 3-digit sequence
  (odd for men, even for women) + ISO 7064 MOD 11-2 check character;
* provider code: ``H`` (hospitals and clinics) or ``P`` (pharmacies) + 6-digit region + 5 digits;
* doctor code (医保医师代码): ``D`` + 6-digit region + 6-digit sequence;
* drug traceability code (药品追溯码): 20 digits = 7-digit product code + 9-digit serial
  + 4 check digits;
* claim id (结算ID): ``3312`` + ``YYMMDD`` of settlement + 10-digit sequence;
* visit id (就诊ID): ``33`` + ``YYMMDD`` of the visit + 12 scrambled digits.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["gb11643_check_digit", "id_numbers", "digits", "fixed_strings", "scramble",
           "trace_codes", "date_digits"]

_WEIGHTS = np.array([2 ** (17 - i) % 11 for i in range(17)], dtype=np.int64)
_CHECK = "10X98765432"


def gb11643_check_digit(first17: str) -> str:
    """Return the check character of an 18-character id number (GB 11643-1999).

    Parameters
    ----------
    first17 : str
        The first 17 digits (region, birth date, sequence).

    Returns
    -------
    str
        One of ``0123456789X`` (ISO 7064 MOD 11-2).

    Examples
    --------
    >>> gb11643_check_digit("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("first17 must be 17 digits")
    total = sum(int(c) * int(w) for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as a ``(n, width)`` uint8 matrix."""
    v = np.asarray(values, dtype=np.int64).copy()
    out = np.empty((len(v), width), dtype=np.uint8)
    for i in range(width - 1, -1, -1):
        out[:, i] = 48 + v % 10
        v //= 10
    return out


def _from_matrix(mat: np.ndarray) -> pa.Array:
    n, w = mat.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32) if n else np.zeros(1, np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets),
                                                  pa.py_buffer(np.ascontiguousarray(mat).tobytes())])


def fixed_strings(*parts: str | np.ndarray | tuple[np.ndarray, int], n: int | None = None
                  ) -> pa.Array:
    """Concatenate constant prefixes, digit matrices and ``(ints, width)`` pairs row-wise.

    Examples
    --------
    >>> fixed_strings("H", (np.array([331202]), 6), (np.array([7]), 5)).to_pylist()
    ['H33120200007']
    """
    mats = []
    for p in parts:
        if isinstance(p, tuple):
            mats.append(digits(p[0], p[1]))
            n = len(p[0])
        elif isinstance(p, np.ndarray):
            mats.append(p)
            n = len(p)
    if n is None:
        raise ValueError("fixed_strings needs at least one array part")
    cols = []
    for p in parts:
        if isinstance(p, str):
            b = np.frombuffer(p.encode("ascii"), dtype=np.uint8)
            cols.append(np.broadcast_to(b, (n, len(b))))
        else:
            cols.append(mats.pop(0))
    return _from_matrix(np.hstack(cols) if cols else np.empty((n, 0), np.uint8))


def date_digits(days: np.ndarray, *, short: bool = False) -> np.ndarray:
    """``YYYYMMDD`` (or ``YYMMDD`` with ``short``) digits of day numbers since 1970-01-01."""
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    if short:
        return digits((y % 100) * 10000 + m * 100 + dd, 6)
    return digits(y * 10000 + m * 100 + dd, 8)


def id_numbers(region: np.ndarray, birth_day: np.ndarray, seq: np.ndarray) -> pa.Array:
    """18-character id numbers with valid GB 11643 check characters.

    Parameters
    ----------
    region : array of int
        6-digit birth region codes.
    birth_day : array of int
        Birth dates as day numbers since 1970-01-01.
    seq : array of int
        3-digit sequence, odd for men and even for women.
    """
    first = np.hstack([digits(region, 6), date_digits(birth_day), digits(seq, 3)])
    total = ((first.astype(np.int64) - 48) * _WEIGHTS).sum(axis=1) % 11
    check = np.frombuffer(_CHECK.encode(), dtype=np.uint8)[total]
    return _from_matrix(np.hstack([first, check[:, None]]))


def scramble(values: np.ndarray, width: int, salt: int = 0) -> np.ndarray:
    """A bijection of ``[0, 10**width)`` that hides the order of sequential ids.

    Affine map with a power of 3 as multiplier (coprime to 10), so distinct inputs give
    distinct outputs; ``width`` up to 12 digits.

    Examples
    --------
    >>> len(set(scramble(np.arange(1000), 6).tolist()))
    1000
    """
    if not 1 <= width <= 12:
        raise ValueError("width must be 1..12")
    mod = 10 ** width
    mult = 3 ** int(width * 2.0959 - 1)  # the largest power of 3 below 10**width
    v = np.asarray(values, dtype=np.int64) % mod
    off = (6180339887 * (salt + 1) + 2718281828) % mod
    if width <= 9:
        return (v * mult + off) % mod
    hi, lo = divmod(mult, 100000)  # split the product to stay within int64
    return (((v * (hi % mod)) % mod) * 100000 % mod + v * lo % mod + off) % mod


def trace_codes(prefix: np.ndarray, pack: np.ndarray) -> pa.Array:
    """20-digit drug traceability codes: product code, scrambled pack serial, 4 check digits."""
    serial = scramble(pack, 9)
    check = (serial * 7919 + np.asarray(prefix, dtype=np.int64) * 31) % 10000
    return fixed_strings((prefix, 7), (serial, 9), (check, 4))
