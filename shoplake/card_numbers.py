"""What looks like a card number (a Luhn-valid run of 13 to 19 digits): serving refuses such a
payment token, the sandbox gateway refuses to store it, and the audits of stored data and logs
look for it — shoplake must never keep one."""

from __future__ import annotations

import re

# A run inside a longer alphanumeric word (a hex digest, a uuid4().hex key) is part of that
# word, not a card number; a run set off by anything else (space, "_", "-", quotes) counts.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{13,19}(?![0-9A-Za-z])")
# Digits with anything but letters between them: "4242 4242-4242_4242" is one run of 16.
_SEPARATED_RUN = re.compile(r"[0-9](?:[^A-Za-z0-9]*[0-9])*")
_NOT_DIGIT = re.compile(r"[^0-9]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_numbers_in(text: str) -> list[str]:
    """Every digit run in stored text or a log that could be a card number."""
    return [run for run in _DIGIT_RUN.findall(text) if luhn_valid(run)]


def holds_card_number(token: str) -> bool:
    """True when the token contains a Luhn-valid run of 13-19 digits, whatever comes before
    it (`tok_`, letters) and whatever separates its digits (spaces, `_`, `-`, `.`): a payment
    token is never allowed to carry a card number in disguise."""
    for run in _SEPARATED_RUN.findall(token):
        digits = _NOT_DIGIT.sub("", run)
        for length in range(13, min(19, len(digits)) + 1):
            for start in range(len(digits) - length + 1):
                if luhn_valid(digits[start : start + length]):
                    return True
    return False
