from __future__ import annotations

import pytest

from features.transforms import category, email_kind, seniority


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("V.P. of Sales", "vp"),
        ("Vice-President, Operations", "vp"),
        ("Co-Founder & CEO", "c_level"),
        ("chief marketing officer", "c_level"),
        ("Dir. Engineering", "director"),
        ("Head of IT", "director"),
        ("Directr of Sales", "director"),
        ("Sr. Mgr, Sales Ops", "manager"),
        ("Maneger", "manager"),
        ("Marketing Intern", "student"),
        ("Account Executive", "individual"),
        ("  ", None),
        (None, None),
    ],
)
def test_seniority_reads_messy_titles(title: str | None, level: str | None) -> None:
    assert seniority(title) == level


def test_category_folds_case_and_spaces() -> None:
    assert category(" Financial  Services ") == category("financial services")
    assert category(3.0) == "3"
    assert category(float("nan")) is None


def test_email_kind() -> None:
    assert email_kind("Gmail.com") == "free"
    assert email_kind("someone@acme.example") == "business"
    assert email_kind(None) is None
