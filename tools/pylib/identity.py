# SPDX-License-Identifier: GPL-3.0-or-later
"""Made-up but valid identity numbers for samples, tests and benchmarks."""

import datetime


def luhn(digits):
    """The Luhn check digit of a string of digits (Swedish personnummer: the nine YYMMDDNNN)."""
    total = 0
    for i, c in enumerate(digits):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


def personnummer(born, serial):
    """YYYYMMDD-NNNC for a date of birth and a three-digit serial number."""
    nine = born.strftime('%y%m%d') + '%03d' % serial
    return born.strftime('%Y%m%d') + '-' + nine[6:] + luhn(nine)


def person(i):
    """A valid personnummer for person number i: distinct for i below 900 * 365."""
    return personnummer(datetime.date(1960, 1, 1) + datetime.timedelta(days=37 * i), 100 + i % 900)
