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


def _mod11(digits, weights):
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else k


def fodselsnummer(born, serial, d_number=False):
    """A Norwegian fødselsnummer DDMMYYIIIKK (a D-number, with 4 added to the
    first digit, when d_number) for a date of birth in 1900-1999 and an
    individual number below 500, with both mod-11 check digits; None when no
    check digit exists for this serial (a tenth of them), so callers take
    the next."""
    assert 1900 <= born.year <= 1999 and 0 <= serial < 500
    day = born.day + (40 if d_number else 0)
    nine = '%02d%s%03d' % (day, born.strftime('%m%y'), serial)
    k1 = _mod11(nine, (3, 7, 6, 1, 8, 9, 4, 5, 2))
    if k1 == 10:
        return None
    k2 = _mod11(nine + str(k1), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    if k2 == 10:
        return None
    return nine + str(k1) + str(k2)


def norwegian(i):
    """A valid fødselsnummer for person number i: distinct for i below 300 * 280."""
    born = datetime.date(1955, 1, 1) + datetime.timedelta(days=53 * (i % 280))
    serial = 100 + i % 300
    while (n := fodselsnummer(born, serial)) is None:
        serial += 1
    return n
