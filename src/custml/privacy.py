"""Privacy: keyed pseudonyms for customer ids, the pseudonymisation key, and a scanner for leaked personal data.

Customer ids that leave the quality stage are ``HMAC-SHA256(key, raw_id)`` truncated to 16 hex characters: the same
key gives the same pseudonym on every run, and without the key a pseudonym cannot be linked back to a raw id (the
link is kept only in the private ``id_map``). :func:`scan_for_pii` looks for the raw e-mails, phones and names of a
customers table (and generic e-mail/phone patterns) in files, so that tests can prove no personal data reaches
features, models, MLflow, scores or reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from custml.config import ENV_PSEUDONYM_KEY, ENV_PSEUDONYM_KEY_FILE, ProjectPaths
from custml.errors import DataFileError, MissingSecretError

__all__ = [
    "DEMO_KEY_FILENAME",
    "PSEUDONYM_LENGTH",
    "PiiScanResult",
    "load_pseudonym_key",
    "parse_key",
    "pseudonymise",
    "pseudonymise_one",
    "scan_for_pii",
    "scan_text",
]

log = logging.getLogger(__name__)

PSEUDONYM_LENGTH = 16
DEMO_KEY_FILENAME = "pseudonym.key"
_MIN_KEY_BYTES = 16
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")


# --------------------------------------------------------------------------------------------------------------
# Pseudonyms
# --------------------------------------------------------------------------------------------------------------
def parse_key(text: str | bytes, source: str) -> bytes:
    """Turn a configured key into bytes: an even-length hex string is decoded, anything else is used as text.

    Raises
    ------
    MissingSecretError
        If the key is empty or shorter than 16 bytes (``source`` says where it came from).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="strict")
    text = text.strip()
    if not text:
        raise MissingSecretError(f"pseudonymisation key from {source} is empty")
    key = bytes.fromhex(text) if len(text) % 2 == 0 and _HEX_RE.match(text) else text.encode("utf-8")
    if len(key) < _MIN_KEY_BYTES:
        raise MissingSecretError(
            f"pseudonymisation key from {source} is too short ({len(key)} bytes; use at least "
            f"{_MIN_KEY_BYTES}, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return key


def load_pseudonym_key(paths: ProjectPaths, *, allow_demo_key: bool) -> bytes:
    """The pseudonymisation key: ``$CUSTML_PSEUDONYM_KEY``, else the file named by ``$CUSTML_PSEUDONYM_KEY_FILE``.

    With neither set, a demo run (``allow_demo_key=True``) uses ``<private>/pseudonym.key``, creating a random one
    (and logging a warning) the first time; any other run raises.

    Raises
    ------
    MissingSecretError
        If no key is configured in a non-demo run, the key file is missing/unreadable, or the key is too short.
    """
    env_key = os.environ.get(ENV_PSEUDONYM_KEY)
    if env_key:
        return parse_key(env_key, f"${ENV_PSEUDONYM_KEY}")
    env_file = os.environ.get(ENV_PSEUDONYM_KEY_FILE)
    if env_file:
        path = Path(env_file).expanduser()
        try:
            return parse_key(path.read_bytes(), f"key file {path}")
        except OSError as exc:
            raise MissingSecretError(
                f"cannot read the pseudonymisation key file {path} named by ${ENV_PSEUDONYM_KEY_FILE} "
                f"({exc.strerror or exc})"
            ) from None
    if not allow_demo_key:
        raise MissingSecretError(
            f"no pseudonymisation key: set ${ENV_PSEUDONYM_KEY} (hex or text, >= {_MIN_KEY_BYTES} bytes) or "
            f"${ENV_PSEUDONYM_KEY_FILE} (a file outside the repository), or pass --allow-demo-key for a demo run"
        )
    path = paths.private / DEMO_KEY_FILENAME
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        log.warning(
            "created a local demo pseudonymisation key at %s; for real data set $%s or $%s",
            path,
            ENV_PSEUDONYM_KEY,
            ENV_PSEUDONYM_KEY_FILE,
        )
    else:
        log.warning("using the local demo pseudonymisation key at %s (demo run)", path)
    return parse_key(path.read_bytes(), f"demo key file {path}")


def pseudonymise_one(raw_id: str, key: bytes) -> str:
    """The pseudonym of one raw id: the first 16 hex characters of HMAC-SHA256(key, raw_id).

    Examples
    --------
    >>> pseudonymise_one("C000001", b"0123456789abcdef")
    '010283c9a5bd3e90'
    """
    return hmac.new(key, str(raw_id).encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


def pseudonymise(ids: pd.Series | Iterable[str], key: bytes) -> pd.Series:
    """Pseudonymise a column of raw ids (nulls stay null); returns a string Series aligned with ``ids``.

    Each distinct id is hashed once, so long columns of repeated ids (orders) are cheap.
    """
    if not isinstance(key, bytes | bytearray) or len(key) == 0:
        raise MissingSecretError("pseudonymise needs a non-empty key (bytes)")
    s = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype="object")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    hashed = np.array([pseudonymise_one(u, key) for u in uniques] + [None], dtype=object)
    out = hashed[codes]  # code -1 (null) picks the trailing None
    return pd.Series(out, index=s.index, name=s.name, dtype="str")


# --------------------------------------------------------------------------------------------------------------
# PII scanner
# --------------------------------------------------------------------------------------------------------------
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# Phone-like tokens: E.164, North-American formats, Chinese mobiles; each then reduced to its digits.
_PHONE_RE = re.compile(
    r"(?<![\w.+\-])(?:"
    r"\+\d[\d \-().]{6,18}\d"
    r"|\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}(?:\s*x\d+)?"
    r"|1[3-9]\d[ \-]?\d{4}[ \-]?\d{4}"
    r")(?![\w.\-])"
)
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")
_TEXT_SUFFIXES = {
    ".csv",
    ".tsv",
    ".txt",
    ".json",
    ".jsonl",
    ".html",
    ".htm",
    ".md",
    ".yaml",
    ".yml",
    ".log",
    ".xml",
    ".svg",
    ".ipynb",
    ".py",
    ".sql",
    ".mlmodel",
}
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache"}
KINDS = ("email", "phone", "name", "generic_email", "generic_phone")


def _fold(text: str) -> str:
    """Case-folded, NFKC-normalised text with single spaces (how names are compared by the scanner)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


@dataclass(frozen=True)
class _Needles:
    emails: frozenset[str]
    phone_digits: frozenset[str]
    names: frozenset[str]
    cjk_names: frozenset[str]
    max_name_tokens: int


def _possible_e164(phones: pd.Series, regions: pd.Series | str) -> list[str]:
    """The E.164 spelling of each phone that parses as a possible number for its row's region.

    The scanner looks for a phone as written and as E.164, the form the quality stage writes. This is parsed here
    with ``phonenumbers`` rather than through ``custml.quality.normalise`` so that privacy stays a leaf module
    (the quality stage imports it for pseudonyms; importing back would make a cycle).
    """
    import phonenumbers

    if isinstance(regions, str):
        region_arr = np.full(len(phones), regions, dtype=object)
    else:
        region_arr = regions.to_numpy(dtype=object)
    out: list[str] = []
    for value, region_value in zip(phones.to_numpy(dtype=object), region_arr, strict=True):
        if pd.isna(value) or not str(value).strip():
            continue
        region = None if pd.isna(region_value) or not str(region_value).strip() else str(region_value).upper()
        try:
            number = phonenumbers.parse(unicodedata.normalize("NFKC", str(value)).strip(), region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            out.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return out


def _build_needles(customers_raw: pd.DataFrame | None) -> _Needles:
    if customers_raw is None or len(customers_raw) == 0:
        return _Needles(frozenset(), frozenset(), frozenset(), frozenset(), 0)

    def col(name: str) -> list[str]:
        if name not in customers_raw.columns:
            return []
        return [str(v) for v in customers_raw[name].dropna().tolist() if str(v).strip()]

    emails = {_fold(e) for e in col("email") if "@" in e}
    phones: set[str] = set()
    raw_phones = col("phone")
    if raw_phones:
        regions = customers_raw["country"] if "country" in customers_raw.columns else "US"
        if isinstance(regions, pd.Series):
            regions = regions.where(regions.notna(), "US")
        raw_phones += _possible_e164(customers_raw["phone"], regions)
    for p in raw_phones:
        d = _digits(p)
        if len(d) >= 7:
            phones.add(d)
            # Also the national number without a leading trunk 0 or country code 1/86 as it may be printed.
            phones.add(d.lstrip("0"))
            for cc in ("1", "86"):
                if d.startswith(cc) and len(d) - len(cc) >= 7:
                    phones.add(d[len(cc) :])
    names: set[str] = set()
    cjk: set[str] = set()
    for n in col("name"):
        f = _fold(n)
        if _CJK_RUN_RE.fullmatch(f.replace(" ", "")):
            if len(f.replace(" ", "")) >= 2:
                cjk.add(f.replace(" ", ""))
        elif len(f.split()) >= 2:  # single tokens ("Anna") would flag ordinary words
            names.add(f)
    max_tokens = max((len(n.split()) for n in names), default=0)
    return _Needles(frozenset(emails), frozenset(phones), frozenset(names), frozenset(cjk), max_tokens)


def scan_text(text: str, needles: _Needles, *, generic: bool = True) -> dict[str, int]:
    """Counts of personal data found in ``text``: known e-mails/phones/names and (``generic``) pattern matches."""
    counts = dict.fromkeys(KINDS, 0)
    for m in _EMAIL_RE.finditer(text):
        if _fold(m.group()) in needles.emails:
            counts["email"] += 1
        elif generic:
            counts["generic_email"] += 1
    for m in _PHONE_RE.finditer(text):
        d = _digits(m.group())
        if d in needles.phone_digits or d.lstrip("0") in needles.phone_digits:
            counts["phone"] += 1
        elif generic:
            counts["generic_phone"] += 1
    if needles.phone_digits:
        # Phones written without separators are plain digit runs: match them against the known numbers only.
        for m in re.finditer(r"(?<![\d.])\+?\d{7,15}(?![\d.])", text):
            if m.group().startswith("+") or _PHONE_RE.fullmatch(m.group()):
                continue  # already counted above
            if _digits(m.group()) in needles.phone_digits:
                counts["phone"] += 1
    if needles.names or needles.cjk_names:
        text = _EMAIL_RE.sub(" ", text)  # a name inside an e-mail address was counted as that e-mail
    if needles.names:
        words = [_fold(w) for w in _WORD_RE.findall(text)]
        k = needles.max_name_tokens
        for i in range(len(words)):
            for n in range(2, k + 1):
                if i + n <= len(words) and " ".join(words[i : i + n]) in needles.names:
                    counts["name"] += 1
                    break
    if needles.cjk_names:
        for run in _CJK_RUN_RE.findall(text):
            i = 0
            while i < len(run):
                hit = 0
                for n in (4, 3, 2):
                    if i + n <= len(run) and run[i : i + n] in needles.cjk_names:
                        hit = n
                        break
                if hit:
                    counts["name"] += 1
                    i += hit
                else:
                    i += 1
    return counts


@dataclass
class PiiScanResult:
    """What :func:`scan_for_pii` found: one row per (file, kind) with a count, and totals."""

    findings: pd.DataFrame
    files_scanned: int
    files_skipped: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(len(self.findings))

    @property
    def counts(self) -> dict[str, int]:
        """Total findings per kind (every kind listed, zeros included)."""
        totals = dict.fromkeys(KINDS, 0)
        if len(self.findings):
            for kind, n in self.findings.groupby("kind")["count"].sum().items():
                totals[str(kind)] = int(n)
        return totals

    def summary(self) -> str:
        c = self.counts
        parts = ", ".join(f"{k}={v}" for k, v in c.items() if v)
        return f"{sum(c.values())} personal-data findings in {self.findings['file'].nunique() if self.found else 0} of {self.files_scanned} files ({parts or 'none'})"


def _iter_files(paths: Iterable[Path | str]) -> Iterable[Path]:
    for p in paths:
        p = Path(p)
        if p.is_file():
            yield p
        elif p.is_dir():
            for sub in sorted(p.rglob("*")):
                if sub.is_file() and not (_SKIP_DIRS & set(sub.relative_to(p).parts[:-1])):
                    yield sub
        else:
            raise DataFileError(f"privacy scan: path not found: {p}")


def _parquet_text(path: Path) -> str:
    """The text a parquet file carries: every string/category cell, and the column names."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    parts = [" ".join(map(str, table.column_names))]
    for name in table.column_names:
        s = table.column(name).to_pandas()
        if (
            pd.api.types.is_string_dtype(s.dtype)
            or pd.api.types.is_object_dtype(s.dtype)
            or isinstance(s.dtype, pd.CategoricalDtype)
        ):
            parts.append("\n".join(s.dropna().astype(str).unique().tolist()))
    return "\n".join(parts)


# Compressed or serialised binaries: their bytes decoded leniently form e-mail- and phone-like runs by chance
# (a SHAP plot's PNG once held "x@y.zz"; LightGBM's tree dump in a pickle holds runs of integers), so only the
# known values of the customers table are looked for in them, not the generic patterns.
_NO_GENERIC_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".pkl", ".pickle"})


def _file_text(path: Path, max_bytes: int) -> str | None:
    suffix = path.suffix.lower()
    if path.stat().st_size > max_bytes:
        return None
    if suffix == ".parquet":
        try:
            return _parquet_text(path)
        except Exception:  # an unreadable parquet is scanned as bytes below
            pass
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    if suffix in {".html", ".htm", ".svg", ".xml"}:
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    elif suffix in {".json", ".ipynb"}:
        with contextlib.suppress(ValueError):  # decode \uXXXX escapes so that non-ASCII names are found
            text = json.dumps(json.loads(text), ensure_ascii=False)
    return text


def scan_for_pii(
    paths: Iterable[Path | str] | Path | str,
    customers_raw: pd.DataFrame | None,
    *,
    generic: bool = True,
    max_file_mb: float = 512,
) -> PiiScanResult:
    """Look for the personal data of ``customers_raw`` (and generic e-mail/phone patterns) in files and folders.

    Parquet files are scanned cell by cell (string columns); JSON, CSV, HTML, text, notebooks and MLflow
    artefacts as text; other files (pickles, databases, images) as their bytes decoded leniently, which still
    shows strings stored in them; the generic patterns are not applied to images and pickles, whose bytes match
    them by chance. Names are matched as whole words (two or more tokens; Chinese names as 2-4 character
    runs), e-mails and phones by pattern then looked up among the customers' values.

    Parameters
    ----------
    paths : path or iterable of paths
        Files and/or folders (folders are walked recursively; ``.git``/``.venv`` are skipped).
    customers_raw : DataFrame or None
        The raw customers table (``email``, ``phone``, ``name`` columns); None scans for generic patterns only.
    generic : bool
        Also count e-mail and phone patterns that match no known customer.

    Returns
    -------
    PiiScanResult
        ``findings`` has columns file, kind ("email", "phone", "name", "generic_email", "generic_phone"), count.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "report.html").write_text("<p>Top customer: Ada Lovelace</p>")
    >>> scan_for_pii(d, pd.DataFrame({"name": ["Ada Lovelace"], "email": [None], "phone": [None]})).counts["name"]
    1
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    needles = _build_needles(customers_raw)
    rows: list[dict[str, object]] = []
    scanned = 0
    skipped: list[str] = []
    for path in _iter_files(paths):
        text = _file_text(path, int(max_file_mb * 2**20))
        if text is None:
            skipped.append(str(path))
            continue
        scanned += 1
        patterns = generic and path.suffix.lower() not in _NO_GENERIC_SUFFIXES
        for kind, n in scan_text(text, needles, generic=patterns).items():
            if n:
                rows.append({"file": str(path), "kind": kind, "count": int(n)})
    findings = pd.DataFrame(rows, columns=["file", "kind", "count"])
    if skipped:
        log.warning("privacy scan skipped %d files larger than %s MB", len(skipped), max_file_mb)
    return PiiScanResult(findings=findings, files_scanned=scanned, files_skipped=skipped)
