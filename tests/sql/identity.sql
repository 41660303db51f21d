-- SPDX-License-Identifier: GPL-3.0-or-later
-- Identity numbers: Swedish personnummer and samordningsnummer, Norwegian
-- fødselsnummer and D-number, Dutch BSN, the dispatch by length with the
-- feed's allowed countries, and the integer fast path of the bulk load.
-- Every number below was computed for this file: the valid ones pass their
-- check digits, the invalid ones fail exactly the check the test names.
BEGIN;
SELECT plan(92);

-- One result as one text: the normalised number, or "! " and the problem,
-- or a marker when a function gives both or neither (never right).
CREATE FUNCTION pg_temp.shown(id text, problem text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN id IS NOT NULL AND problem IS NULL THEN id
                    WHEN id IS NULL AND problem IS NOT NULL THEN '! ' || problem
                    WHEN id IS NULL THEN 'NEITHER id NOR problem'
                    ELSE 'BOTH id AND problem' END
$$;
CREATE FUNCTION pg_temp.se(t text, ref date DEFAULT DATE '2026-03-01') RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.shown(x.id, x.problem) FROM bokvar.se_personnummer(t, ref) x $$;
CREATE FUNCTION pg_temp.no(t text) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.shown(x.id, x.problem) FROM bokvar.no_fodselsnummer(t) x $$;
CREATE FUNCTION pg_temp.nl(t text) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.shown(x.id, x.problem) FROM bokvar.nl_bsn(t) x $$;
CREATE FUNCTION pg_temp.idn(t text, allowed text[] DEFAULT ARRAY['se', 'no', 'nl'], ref date DEFAULT DATE '2026-03-01')
RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.shown(x.id, x.problem) FROM bokvar.identity_number(t, ref, allowed) x $$;

-- ---------------------------------------------------------------------
-- Swedish personnummer: every accepted form, one person (1981-12-28).
SELECT is(pg_temp.se('811228-9874'), '198112289874', 'SE: YYMMDD-NNNC normalises to twelve digits');
SELECT is(pg_temp.se('8112289874'), '198112289874', 'SE: YYMMDDNNNC normalises to twelve digits');
SELECT is(pg_temp.se('198112289874'), '198112289874', 'SE: YYYYMMDDNNNC is kept');
SELECT is(pg_temp.se('19811228-9874'), '198112289874', 'SE: YYYYMMDD-NNNC normalises to twelve digits');
SELECT is(pg_temp.se(' 811228 - 9874 '), '198112289874', 'SE: spaces around the parts are ignored');
SELECT is(pg_temp.se('19850312-1231'), '198503121231', 'SE: another valid number');
SELECT is(pg_temp.se('20000229-1110'), '200002291110', 'SE: 29 February of 2000 (a leap year: divisible by 400)');
SELECT is(pg_temp.se('000229-1110'), '200002291110', 'SE: 29 February of 2000 in the ten-digit form');
SELECT is(pg_temp.se('19840229-1234'), '198402291234', 'SE: 29 February of 1984');

-- The '+' form: a hundred years earlier than the '-' form.
SELECT is(pg_temp.se('121212-2343'), '201212122343', 'SE: YYMMDD-NNNC of a child is read in this century');
SELECT is(pg_temp.se('121212+2343'), '191212122343', 'SE: YYMMDD+NNNC is a hundred years earlier than YYMMDD-NNNC');
SELECT is(pg_temp.se('811228+9874'), '188112289874', 'SE: YYMMDD+NNNC of a date last century goes back one more');
SELECT is(pg_temp.se('000229+1110'), '! the date part of the Swedish personnummer is not a valid date',
          'SE: 000229+ is 29 February 1900, which did not exist');

-- Century inference against ref: a ten-digit date after ref is last century.
SELECT is(pg_temp.se('260315-3459', DATE '2026-03-01'), '192603153459',
          'SE: a ten-digit number whose date lies after ref is read in the previous century');
SELECT is(pg_temp.se('260315-3459', DATE '2026-03-14'), '192603153459', 'SE: ... still on the day before');
SELECT is(pg_temp.se('260315-3459', DATE '2026-03-15'), '202603153459', 'SE: born on ref itself is this century');
SELECT is(pg_temp.se('260315+3459', DATE '2026-03-01'), '182603153459', 'SE: ... and its + form a hundred years before that');
SELECT is(pg_temp.se('260315-3459', DATE '1990-06-01'), '192603153459', 'SE: ref in another century moves the reading');

-- Samordningsnummer: day + 60, kept as given in the normalised number.
SELECT is(pg_temp.se('900363-2776'), '199003632776', 'SE: samordningsnummer (day + 60) is valid');
SELECT is(pg_temp.se('199003632776'), '199003632776', 'SE: twelve-digit samordningsnummer is valid');
SELECT is(pg_temp.se('19840289-1231'), '198402891231', 'SE: samordningsnummer on 29 February of a leap year');
SELECT is(pg_temp.se('198501921111'), '! the date part of the Swedish personnummer is not a valid date',
          'SE: samordningsnummer day 92 (32 January) is not a date');
SELECT is(pg_temp.se('198501601234'), '! the date part of the Swedish personnummer is not a valid date',
          'SE: day 60 is neither a day nor a samordningsnummer');

-- Invalid Swedish numbers.
SELECT is(pg_temp.se('811228-9875'), '! the check digit of the Swedish personnummer is wrong', 'SE: wrong check digit');
SELECT is(pg_temp.se('198112289870'), '! the check digit of the Swedish personnummer is wrong', 'SE: wrong check digit, twelve digits');
SELECT is(pg_temp.se('19850230-1115'), '! the date part of the Swedish personnummer is not a valid date',
          'SE: 30 February 1985 (check digit right) is not a date');
SELECT is(pg_temp.se('851301-1117'), '! the date part of the Swedish personnummer is not a valid date', 'SE: month 13');
SELECT is(pg_temp.se('850100-1112'), '! the date part of the Swedish personnummer is not a valid date', 'SE: day 00');
SELECT is(pg_temp.se('19850431-1112'), '! the date part of the Swedish personnummer is not a valid date', 'SE: 31 April');
SELECT is(pg_temp.se('19000229-1110'), '! the date part of the Swedish personnummer is not a valid date',
          'SE: 29 February 1900 (not a leap year)');
SELECT is(pg_temp.se('203012311118'), '! the Swedish personnummer has a date of birth in the future',
          'SE: date of birth after ref');
SELECT is(pg_temp.se('20260302-1235', DATE '2026-03-01'), '! the Swedish personnummer has a date of birth in the future',
          'SE: born the day after ref');
SELECT is(pg_temp.se('20260301-1236', DATE '2026-03-01'), '202603011236', 'SE: born on ref is valid');
SELECT is(pg_temp.se('8112289874x'), '! is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)', 'SE: trailing letter');
SELECT is(pg_temp.se('81122-89874'), '! is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)', 'SE: hyphen in the wrong place');
SELECT is(pg_temp.se('1981122898740'), '! is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)', 'SE: thirteen digits');

-- ---------------------------------------------------------------------
-- Norwegian fødselsnummer and D-number.
SELECT is(pg_temp.no('15078549995'), '15078549995', 'NO: valid fødselsnummer (15.07.1985)');
SELECT is(pg_temp.no('150785 49995'), '15078549995', 'NO: a space between date and individual number is ignored');
SELECT is(pg_temp.no('31129949980'), '31129949980', 'NO: valid, 31.12.1999');
SELECT is(pg_temp.no('01010550129'), '01010550129', 'NO: valid, individual number 501 with year 05 is 2005');
SELECT is(pg_temp.no('01014095094'), '01014095094', 'NO: valid, individual number 950 with year 40 is 1940');
SELECT is(pg_temp.no('41019012393'), '41019012393', 'NO: D-number (first digit + 4) is valid');
SELECT is(pg_temp.no('55078549989'), '55078549989', 'NO: D-number of 15.07.1985 is valid');
SELECT is(pg_temp.no('15078549985'), '! the first check digit of the Norwegian fødselsnummer is wrong', 'NO: first check digit wrong');
SELECT is(pg_temp.no('15078549990'), '! the second check digit of the Norwegian fødselsnummer is wrong', 'NO: second check digit wrong');
SELECT is(pg_temp.no('15078510400'), '! the first check digit of the Norwegian fødselsnummer is wrong',
          'NO: nine digits whose first check digit would be 10 never make a valid number');
SELECT is(pg_temp.no('31029012302'), '! the date part of the Norwegian fødselsnummer is not a valid date', 'NO: 31 February');
SELECT is(pg_temp.no('01139012328'), '! the date part of the Norwegian fødselsnummer is not a valid date', 'NO: month 13');
SELECT is(pg_temp.no('32019012351'), '! the date part of the Norwegian fødselsnummer is not a valid date', 'NO: day 32');
SELECT is(pg_temp.no('01019080095'), '! the date part of the Norwegian fødselsnummer is not a valid date',
          'NO: individual number 800 with year 90 belongs to no century');
SELECT is(pg_temp.no('1507854999'), '! is not a Norwegian fødselsnummer (11 digits)', 'NO: ten digits');
SELECT is(pg_temp.no('abc'), '! is not a Norwegian fødselsnummer (11 digits)', 'NO: letters');

-- ---------------------------------------------------------------------
-- Dutch BSN.
SELECT is(pg_temp.nl('123456782'), '123456782', 'NL: valid nine-digit BSN');
SELECT is(pg_temp.nl('111222333'), '111222333', 'NL: another valid BSN');
SELECT is(pg_temp.nl('12345672'), '012345672', 'NL: eight digits get a leading zero');
SELECT is(pg_temp.nl('1112.22.333'), '111222333', 'NL: dots between groups are ignored');
SELECT is(pg_temp.nl('123456789'), '! the Dutch BSN fails the 11-proef', 'NL: failing the 11-proef');
SELECT is(pg_temp.nl('12345678'), '! the Dutch BSN fails the 11-proef', 'NL: eight digits failing the 11-proef');
SELECT is(pg_temp.nl('000000000'), '! is not a Dutch BSN (9 digits)', 'NL: all zeros is not a BSN');
SELECT is(pg_temp.nl('00000000'), '! is not a Dutch BSN (9 digits)', 'NL: eight zeros is not a BSN either');
SELECT is(pg_temp.nl('1234567'), '! is not a Dutch BSN (9 digits)', 'NL: seven digits');

-- ---------------------------------------------------------------------
-- identity_number: dispatch by length, and the feed's allowed countries.
SELECT is(pg_temp.idn('811228-9874'), '198112289874', 'dispatch: ten digits are Swedish');
SELECT is(pg_temp.idn('121212+2343'), '191212122343', 'dispatch: the + form reaches the Swedish reader intact');
SELECT is(pg_temp.idn('19811228-9874'), '198112289874', 'dispatch: twelve digits are Swedish');
SELECT is(pg_temp.idn('260315-3459', ARRAY['se'], DATE '2026-03-15'), '202603153459', 'dispatch: ref reaches the Swedish reader');
SELECT is(pg_temp.idn('15078549995'), '15078549995', 'dispatch: eleven digits are Norwegian');
SELECT is(pg_temp.idn('123456782'), '123456782', 'dispatch: nine digits are Dutch');
SELECT is(pg_temp.idn('12345672'), '012345672', 'dispatch: eight digits are Dutch');
SELECT is(pg_temp.idn('811228-9875'), '! the check digit of the Swedish personnummer is wrong',
          'dispatch: the Swedish reader''s problem is passed on');
SELECT is(pg_temp.idn('15078549990'), '! the second check digit of the Norwegian fødselsnummer is wrong',
          'dispatch: the Norwegian reader''s problem is passed on');
SELECT is(pg_temp.idn('123456789'), '! the Dutch BSN fails the 11-proef', 'dispatch: the Dutch reader''s problem is passed on');
SELECT is(pg_temp.idn('15078549995', ARRAY['se']),
          '! looks like a Norwegian identity number, which this feed does not accept (identity: se)',
          'allowed: a valid Norwegian number in a Swedish-only feed is refused');
SELECT is(pg_temp.idn('811228-9874', ARRAY['no', 'nl']),
          '! looks like a Swedish identity number, which this feed does not accept (identity: no, nl)',
          'allowed: a valid Swedish number in a feed without se is refused');
SELECT is(pg_temp.idn('123456782', ARRAY['se', 'no']),
          '! looks like a Dutch identity number, which this feed does not accept (identity: se, no)',
          'allowed: a valid Dutch number in a feed without nl is refused');
SELECT is(pg_temp.idn('15078549995', ARRAY['se', 'no']), '15078549995', 'allowed: a listed country passes');
SELECT is(pg_temp.idn('abc'), '! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)',
          'garbage: letters');
SELECT is(pg_temp.idn(''), '! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)',
          'garbage: empty');
SELECT is(pg_temp.idn('1234567'), '! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)',
          'garbage: seven digits');
SELECT is(pg_temp.idn('12345678901234'), '! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)',
          'garbage: fourteen digits');
SELECT is(pg_temp.idn(NULL), '! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)',
          'garbage: NULL gives a problem, not an error');

-- No problem repeats the number: every invalid input above, through every
-- reader, gives a problem that contains neither the input nor its digits.
CREATE TEMP TABLE bad_number (t text, allowed text[]);
INSERT INTO bad_number VALUES
        ('811228-9875', NULL), ('198112289870', NULL), ('19850230-1115', NULL), ('851301-1117', NULL),
        ('850100-1112', NULL), ('203012311118', NULL), ('000229+1110', NULL), ('198501921111', NULL),
        ('8112289874x', NULL), ('15078549985', NULL), ('15078549990', NULL), ('31029012302', NULL),
        ('01019080095', NULL), ('123456789', NULL), ('000000000', NULL), ('1234567', NULL),
        ('15078549995', ARRAY['se']), ('811228-9874', ARRAY['no']), ('123456782', ARRAY['se']);
SELECT is_empty($$
        SELECT b.t, r.problem, s.problem, n.problem, d.problem
        FROM bad_number b,
             LATERAL bokvar.identity_number(b.t, DATE '2026-03-01', coalesce(b.allowed, ARRAY['se', 'no', 'nl'])) r,
             LATERAL bokvar.se_personnummer(b.t, DATE '2026-03-01') s,
             LATERAL bokvar.no_fodselsnummer(b.t) n,
             LATERAL bokvar.nl_bsn(b.t) d
        WHERE r.problem IS NULL
           OR strpos(r.problem, b.t) > 0 OR strpos(r.problem, bokvar.digits(b.t)) > 0
           OR strpos(coalesce(s.problem, ''), bokvar.digits(b.t)) > 0
           OR strpos(coalesce(n.problem, ''), bokvar.digits(b.t)) > 0
           OR strpos(coalesce(d.problem, ''), bokvar.digits(b.t)) > 0
           OR r.problem ~ '\d{4}' OR s.problem ~ '\d{4}' OR n.problem ~ '\d{4}' OR d.problem ~ '\d{4}'$$,
        'no problem contains the identity number it is about, nor any run of four digits');
SELECT is((SELECT count(*)::integer FROM bad_number b,
                  LATERAL bokvar.identity_number(b.t, DATE '2026-03-01', coalesce(b.allowed, ARRAY['se', 'no', 'nl'])) r
           WHERE r.id IS NULL AND r.problem ~ '^[a-z][^\n]+$'),
          19, 'each of the 19 invalid numbers gives a one-line problem and no id');

-- ---------------------------------------------------------------------
-- Luhn over ten digits.
SELECT ok(bokvar.luhn10_ok(8112289874), 'luhn10_ok: 811228987 with check digit 4');
SELECT ok(NOT bokvar.luhn10_ok(8112289875), 'luhn10_ok: the wrong check digit fails');
SELECT is((SELECT array_agg(c) FROM generate_series(0, 9) c WHERE bokvar.luhn10_ok(8112289870 + c)), ARRAY[4],
          'luhn10_ok: exactly one check digit of ten passes');
SELECT ok(bokvar.luhn10_ok(0), 'luhn10_ok: 0000000000 passes (the sum is 0)');
SELECT ok(bokvar.luhn10_ok(26), 'luhn10_ok: leading zeros count as digits (0000000026)');
-- Against the textbook definition, digit by digit, over a spread of numbers.
SELECT is_empty($$
        SELECT n FROM (SELECT (g * 7919 + g * g * 104729) % 10000000000 AS n FROM generate_series(1::bigint, 20000) g) x
        WHERE bokvar.luhn10_ok(n) IS DISTINCT FROM
              ((SELECT sum(CASE WHEN i % 2 = 1 THEN (2 * substr(lpad(n::text, 10, '0'), i, 1)::integer) / 10
                                                    + (2 * substr(lpad(n::text, 10, '0'), i, 1)::integer) % 10
                                ELSE substr(lpad(n::text, 10, '0'), i, 1)::integer END)
                FROM generate_series(1, 10) i) % 10 = 0)$$,
        'luhn10_ok agrees with the digit-by-digit Luhn sum on 20,000 numbers');

-- ---------------------------------------------------------------------
-- The fast path: se_personnummer12_ok(n, YYYYMMDD) is true exactly when
-- the full reader gives an id for the same twelve digits and ref.
CREATE TEMP TABLE twelve (n bigint, valid boolean);
INSERT INTO twelve VALUES
        (198112289874, true), (198503121231, true), (197001012348, true), (199208174566, true),
        (199003632776, true),   -- samordningsnummer
        (198402891231, true),   -- samordningsnummer on 29 February 1984
        (198501611233, true),   -- samordningsnummer day 61 = 1 January
        (200002291110, true),   -- 29 February 2000
        (198402291234, true),   -- 29 February 1984
        (202603011236, true),   -- born on ref
        (185001011237, true),   -- the oldest year the fast path takes
        (191212122343, true),
        (198112289875, false),  -- check digit
        (198112289870, false),
        (198502301115, false),  -- 30 February
        (190002291110, false),  -- 29 February 1900
        (198513011117, false),  -- month 13
        (198500011112, false),  -- month 00 (check digit right)
        (198501001112, false),  -- day 00
        (198504311112, false),  -- 31 April
        (198501321114, false),  -- day 32
        (198501601234, false),  -- day 60
        (198501921111, false),  -- samordningsnummer day 32
        (202603021235, false),  -- born the day after ref
        (203012311118, false);  -- future
SELECT is((SELECT count(*)::integer FROM twelve t, bokvar.se_personnummer(t.n::text, DATE '2026-03-01') r
           WHERE (r.id IS NOT NULL) = t.valid), 25, 'full path: the 25 twelve-digit numbers are valid or invalid as listed');
SELECT is_empty($$
        SELECT t.n, bokvar.se_personnummer12_ok(t.n, 20260301) AS fast, r.id, r.problem
        FROM twelve t, bokvar.se_personnummer(t.n::text, DATE '2026-03-01') r
        WHERE bokvar.se_personnummer12_ok(t.n, 20260301) IS DISTINCT FROM (r.id IS NOT NULL)$$,
        'fast path agrees with the full path on every listed number');
SELECT is_empty($$
        SELECT n, ref
        FROM (SELECT (y * 100000000::bigint + m * 1000000 + d * 10000 + 1110 + s) AS n, ref
              FROM generate_series(1850, 2030, 3) y, generate_series(0, 13) m, generate_series(0, 93) d,
                   generate_series(0, 9, 3) s, (VALUES (DATE '2024-02-29'), (DATE '2026-03-01')) r(ref)) x
        WHERE bokvar.se_personnummer12_ok(n, to_char(ref, 'YYYYMMDD')::integer)
              IS DISTINCT FROM ((bokvar.se_personnummer(n::text, ref)).id IS NOT NULL)$$,
        'fast path agrees with the full path on a grid of years 1850-2030, months 0-13, days 0-93');
SELECT is(bokvar.se_personnummer12_ok(184912311232, 20260301),
          (bokvar.se_personnummer('184912311232', DATE '2026-03-01')).id IS NOT NULL,
          'fast path agrees with the full path on 31 December 1849');

SELECT * FROM finish();
ROLLBACK;
