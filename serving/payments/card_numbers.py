"""Card-number detection for serving: the kernel's (`shoplake/card_numbers.py`), which the
sandbox gateway shares."""

from __future__ import annotations

from shoplake.card_numbers import card_numbers_in, holds_card_number, luhn_valid

__all__ = ["card_numbers_in", "holds_card_number", "luhn_valid"]
