-- SPDX-License-Identifier: GPL-3.0-or-later
-- The readers of feed values: dates in the declared format, amounts with a
-- decimal comma or point, counts, normalised words and address keys, and
-- the CSV line written back for a quarantined row. Each gives a value or
-- NULL, never an error, whatever the feed sends.
BEGIN;
SELECT plan(136);

-- ---------------------------------------------------------------------
-- parse_date, each format.
SELECT is(bokvar.parse_date('2026-03-05', 'YYYY-MM-DD'), DATE '2026-03-05', 'YYYY-MM-DD');
SELECT is(bokvar.parse_date('2026-03-05'), DATE '2026-03-05', 'YYYY-MM-DD is the default format');
SELECT is(bokvar.parse_date('2026-03-05T10:00:00Z', 'YYYY-MM-DD'), DATE '2026-03-05', 'YYYY-MM-DD with a time after T');
SELECT is(bokvar.parse_date('2026-03-05T23:30:00+01:00', 'YYYY-MM-DD'), DATE '2026-03-05',
          'YYYY-MM-DD with a time and offset: the date as written counts');
SELECT is(bokvar.parse_date('2026-03-05 10:00', 'YYYY-MM-DD'), DATE '2026-03-05', 'YYYY-MM-DD with a time after a space');
SELECT is(bokvar.parse_date('2026-3-5', 'YYYY-MM-DD'), DATE '2026-03-05', 'YYYY-MM-DD with one-digit month and day');
SELECT is(bokvar.parse_date('  2026-03-05  ', 'YYYY-MM-DD'), DATE '2026-03-05', 'surrounding spaces are ignored');
SELECT is(bokvar.parse_date('2026-03-05x', 'YYYY-MM-DD'), NULL, 'YYYY-MM-DD followed by garbage is not a date');
SELECT is(bokvar.parse_date('20260305', 'YYYYMMDD'), DATE '2026-03-05', 'YYYYMMDD');
SELECT is(bokvar.parse_date('2026035', 'YYYYMMDD'), NULL, 'YYYYMMDD with seven digits');
SELECT is(bokvar.parse_date('2026/03/05', 'YYYY/MM/DD'), DATE '2026-03-05', 'YYYY/MM/DD');
SELECT is(bokvar.parse_date('05.03.2026', 'DD.MM.YYYY'), DATE '2026-03-05', 'DD.MM.YYYY');
SELECT is(bokvar.parse_date('5.3.2026', 'DD.MM.YYYY'), DATE '2026-03-05', 'DD.MM.YYYY with one-digit day and month');
SELECT is(bokvar.parse_date('05-03-2026', 'DD-MM-YYYY'), DATE '2026-03-05', 'DD-MM-YYYY');
SELECT is(bokvar.parse_date('05/03/2026', 'DD/MM/YYYY'), DATE '2026-03-05', 'DD/MM/YYYY');
SELECT is(bokvar.parse_date('03/05/2026', 'MM/DD/YYYY'), DATE '2026-03-05', 'MM/DD/YYYY');
SELECT is(bokvar.parse_date('13/05/2026', 'MM/DD/YYYY'), NULL, 'MM/DD/YYYY with month 13');
SELECT is(bokvar.parse_date('13/05/2026', 'DD/MM/YYYY'), DATE '2026-05-13', 'the same text as DD/MM/YYYY');
SELECT is(bokvar.parse_date('2026-03-05', 'DD.MM.YYYY'), NULL, 'a date in another format than the declared one');
SELECT is(bokvar.parse_date('05.03.2026', 'YYYY-MM-DD'), NULL, '... and the other way round');
-- Leap years.
SELECT is(bokvar.parse_date('29.02.2024', 'DD.MM.YYYY'), DATE '2024-02-29', '29 February 2024 exists');
SELECT is(bokvar.parse_date('29.02.2026', 'DD.MM.YYYY'), NULL, '29 February 2026 does not');
SELECT is(bokvar.parse_date('29.02.1900', 'DD.MM.YYYY'), NULL, '29 February 1900 does not (divisible by 100)');
SELECT is(bokvar.parse_date('29.02.2000', 'DD.MM.YYYY'), DATE '2000-02-29', '29 February 2000 does (divisible by 400)');
SELECT is(bokvar.parse_date('20240229', 'YYYYMMDD'), DATE '2024-02-29', '20240229');
SELECT is(bokvar.parse_date('20230229', 'YYYYMMDD'), NULL, '20230229');
-- Impossible dates and unknown formats: NULL, no error.
SELECT is(bokvar.parse_date('31.04.2026', 'DD.MM.YYYY'), NULL, '31 April');
SELECT is(bokvar.parse_date('32.01.2026', 'DD.MM.YYYY'), NULL, 'day 32');
SELECT is(bokvar.parse_date('00.01.2026', 'DD.MM.YYYY'), NULL, 'day 0');
SELECT is(bokvar.parse_date('2026-13-01', 'YYYY-MM-DD'), NULL, 'month 13');
SELECT is(bokvar.parse_date('2026-00-01', 'YYYY-MM-DD'), NULL, 'month 0');
SELECT is(bokvar.parse_date('99999999', 'YYYYMMDD'), NULL, '99999999');
SELECT is(bokvar.parse_date('01.01.1799', 'DD.MM.YYYY'), NULL, 'a year before 1800');
SELECT is(bokvar.parse_date('2026-03-05', 'YYYY.MM.DD'), NULL, 'an unknown format gives NULL');
SELECT is(bokvar.parse_date('2026-03-05', NULL), NULL, 'no format gives NULL');
SELECT is(bokvar.parse_date(NULL, 'YYYY-MM-DD'), NULL, 'NULL gives NULL');
SELECT is(bokvar.parse_date('', 'YYYY-MM-DD'), NULL, 'the empty string gives NULL');
SELECT is(bokvar.parse_date('5 mars 2026', 'DD.MM.YYYY'), NULL, 'words give NULL');
SELECT is(bokvar.parse_date('٢٠٢٦-٠٣-٠٥', 'YYYY-MM-DD'), NULL, 'digits of another script give NULL, not a cast error');
SELECT lives_ok($$
        SELECT bokvar.parse_date(t, f)
        FROM unnest(ARRAY['2026-99-99', '9999-12-31', '0000-01-01', '2026-1-', '-1-1-2026', '1.1.1', '//', '2026-03-05T',
                          '29.02.-2024', E'05.03.2026\n', '1e3', '２０２６-０３-０５']) t,
             unnest(ARRAY['YYYY-MM-DD', 'YYYYMMDD', 'YYYY/MM/DD', 'DD.MM.YYYY', 'DD-MM-YYYY', 'DD/MM/YYYY', 'MM/DD/YYYY', 'X']) f$$,
        'no text in any format raises an error');

-- ---------------------------------------------------------------------
-- parse_amount and amount_of: decimal comma.
SELECT is(bokvar.parse_amount('12 345,50', true), 12345.50, 'comma: "12 345,50"');
SELECT is(bokvar.parse_amount('12 345,50 kr', true), 12345.50, 'comma: "12 345,50 kr"');
SELECT is(bokvar.parse_amount('12.345,50', true), 12345.50, 'comma: "12.345,50"');
SELECT is(bokvar.parse_amount('1 234', true), 1234.00, 'comma: "1 234"');
SELECT is(bokvar.parse_amount('0,5', true), 0.50, 'comma: "0,5"');
SELECT is(bokvar.parse_amount('SEK 100', true), 100.00, 'comma: "SEK 100"');
SELECT is(bokvar.parse_amount('100:-', true), 100.00, 'comma: "100:-"');
SELECT is(bokvar.parse_amount('1 234 567,89 SEK', true), 1234567.89, 'comma: "1 234 567,89 SEK"');
SELECT is(bokvar.parse_amount(E'12\u00a0345,50', true), 12345.50, 'comma: a no-break space groups thousands');
SELECT is(bokvar.parse_amount(E'12\u202f345,50', true), 12345.50, 'comma: a narrow no-break space groups thousands');
SELECT is(bokvar.parse_amount('12''345,50', true), 12345.50, 'comma: an apostrophe groups thousands');
SELECT is(bokvar.parse_amount('€ 5,25', true), 5.25, 'comma: "€ 5,25"');
SELECT is(bokvar.parse_amount('0', true), 0.00, 'comma: zero');
-- decimal point.
SELECT is(bokvar.parse_amount('1,234.50', false), 1234.50, 'point: "1,234.50"');
SELECT is(bokvar.parse_amount('1234.5', false), 1234.50, 'point: "1234.5"');
SELECT is(bokvar.parse_amount('12345', false), 12345.00, 'point: "12345"');
SELECT is(bokvar.parse_amount('SEK 1,234.50', false), 1234.50, 'point: "SEK 1,234.50"');
SELECT is(bokvar.parse_amount('1234.50 NOK', false), 1234.50, 'point: "1234.50 NOK"');
SELECT is(bokvar.parse_amount('EUR 99.99', false), 99.99, 'point: "EUR 99.99"');
-- The limits, and garbage: NULL, not an error.
SELECT is(bokvar.parse_amount('-100', true), NULL, 'negative (comma)');
SELECT is(bokvar.parse_amount('-100', false), NULL, 'negative (point)');
SELECT is(bokvar.parse_amount('-1 234,50 kr', true), NULL, 'negative with a currency');
SELECT is(bokvar.parse_amount('12,345', true), NULL, 'three decimals (comma)');
SELECT is(bokvar.parse_amount('1.005', false), NULL, 'three decimals (point)');
SELECT is(bokvar.parse_amount('999 999 999 999,99', true), 999999999999.99, 'just below 10^12');
SELECT is(bokvar.parse_amount('1 000 000 000 000', true), NULL, '10^12 (comma)');
SELECT is(bokvar.parse_amount('1000000000000', false), NULL, '10^12 (point)');
SELECT is(bokvar.parse_amount('99999999999999999999', false), NULL, 'twenty digits');
SELECT is(bokvar.parse_amount('abc', true), NULL, 'letters');
SELECT is(bokvar.parse_amount('', true), NULL, 'empty');
SELECT is(bokvar.parse_amount('kr', true), NULL, 'only a currency');
SELECT is(bokvar.parse_amount(',', true), NULL, 'only a comma');
SELECT is(bokvar.parse_amount('.', false), NULL, 'only a point');
SELECT is(bokvar.parse_amount('1e5', false), NULL, 'scientific notation');
SELECT is(bokvar.parse_amount('12,3,4', true), NULL, 'two decimal commas');
SELECT is(bokvar.parse_amount('12.345,50', false), NULL, 'a decimal-comma amount read with decimal point');
SELECT is(bokvar.parse_amount(NULL, true), NULL, 'NULL');
SELECT is(bokvar.amount_of('1.50', true), NULL, 'comma: "1.50" is not 150 (a point before two digits groups no thousands)');
SELECT is(bokvar.amount_of('12,5', false), NULL, 'point: "12,5" is not 125 (a comma before one digit groups no thousands)');
SELECT is(bokvar.amount_of('12 345,50', false), NULL, 'point: "12 345,50" is not 1234550');
-- amount_of is the same reader, fast for plain numbers.
SELECT is(bokvar.amount_of('12345', false), 12345.00, 'amount_of: plain integer (point)');
SELECT is(bokvar.amount_of('1234.5', false), 1234.50, 'amount_of: plain decimal (point)');
SELECT is(bokvar.amount_of('12 345,50', true), 12345.50, 'amount_of: "12 345,50" (comma)');
SELECT is(bokvar.amount_of('12345,50', true), 12345.50, 'amount_of: "12345,50" (comma)');
SELECT is(bokvar.amount_of('12 345,50 kr', true), 12345.50, 'amount_of: "12 345,50 kr" falls through to the full reader');
SELECT is(bokvar.amount_of('999999999999', true), 999999999999.00, 'amount_of: twelve digits');
SELECT is(bokvar.amount_of('1000000000000', true), NULL, 'amount_of: thirteen digits');
SELECT is(bokvar.amount_of(NULL, true), NULL, 'amount_of: NULL');
SELECT is_empty($$
        SELECT t, c, bokvar.amount_of(t, c), bokvar.parse_amount(t, c)
        FROM unnest(ARRAY['0', '7', '12345', '1234.5', '1234.56', '1234.567', '12 345,50', '12345,50', '12 345', '1 2345',
                          '123 456 789 012', '123 456 789 012,99', '1 234 567 890 123', '999999999999', '1000000000000',
                          '0,5', '0.5', ',5', '5,', '5.', '-1', '1,234.50', '1.234,50', 'SEK 12', '12 kr', ' 12 ',
                          '12345678901,5', '', 'x']) t,
             (VALUES (true), (false)) v(c)
        WHERE bokvar.amount_of(t, c) IS DISTINCT FROM bokvar.parse_amount(t, c)$$,
        'amount_of gives what parse_amount gives, with either decimal separator');

-- ---------------------------------------------------------------------
-- parse_count.
SELECT is(bokvar.parse_count('0'), 0, 'count: 0');
SELECT is(bokvar.parse_count('3'), 3, 'count: 3');
SELECT is(bokvar.parse_count(' 3 '), 3, 'count: with spaces');
SELECT is(bokvar.parse_count('03'), 3, 'count: a leading zero');
SELECT is(bokvar.parse_count('3.0'), 3, 'count: 3.0 (a spreadsheet''s whole number)');
SELECT is(bokvar.parse_count('999999'), 999999, 'count: six digits');
SELECT is(bokvar.parse_count('1000000'), NULL, 'count: seven digits');
SELECT is(bokvar.parse_count('3.5'), NULL, 'count: a fraction');
SELECT is(bokvar.parse_count('-1'), NULL, 'count: negative');
SELECT is(bokvar.parse_count('+2'), NULL, 'count: a sign');
SELECT is(bokvar.parse_count('två'), NULL, 'count: a word');
SELECT is(bokvar.parse_count('1 000'), NULL, 'count: grouped digits');
SELECT is(bokvar.parse_count(''), NULL, 'count: empty');
SELECT is(bokvar.parse_count(NULL), NULL, 'count: NULL');

-- ---------------------------------------------------------------------
-- norm_word and address_key.
SELECT is(bokvar.norm_word('Storgatan 12 B'), 'STORGATAN12B', 'norm_word: upper case without spaces');
SELECT is(bokvar.norm_word('STORGATAN 12B'), bokvar.norm_word('Storgatan 12 B'), 'norm_word: "STORGATAN 12B" = "Storgatan 12 B"');
SELECT is(bokvar.norm_word('östra ågatan 5'), 'ÖSTRAÅGATAN5', 'norm_word: å, ä, ö are upper-cased');
SELECT is(bokvar.norm_word('Östra Ågatan 5'), bokvar.norm_word('ÖSTRA ÅGATAN 5'), 'norm_word: Å and Ö in any case are one');
SELECT is(bokvar.norm_word('Smörgåsvägen'), 'SMÖRGÅSVÄGEN', 'norm_word: ä inside a word');
SELECT is(bokvar.norm_word('Søndre gate 3, leil. 2'), 'SØNDREGATE3LEIL2', 'norm_word: ø, and punctuation dropped');
SELECT is(bokvar.norm_word('Väg-gatan 3/4 "A"'), 'VÄGGATAN34A', 'norm_word: hyphen, slash and quotes dropped');
-- In a database whose locale is C, upper() leaves letters beyond ASCII as
-- they are: COLLATE "C" makes that locale here, whatever the cluster's.
SELECT is(bokvar.norm_word('östra ågatan 5, ærø' COLLATE "C"), 'ÖSTRAÅGATAN5ÆRØ', 'norm_word: åäö and æø upper-cased in the C locale too');
SELECT is(bokvar.norm_word('Café Söder' COLLATE "C"), bokvar.norm_word('CAFÉ SÖDER' COLLATE "C"), 'norm_word: é in the C locale too');
SELECT is(bokvar.norm_word('Jozef Israëlskade 12' COLLATE "C"), bokvar.norm_word('JOZEF ISRAËLSKADE 12' COLLATE "C"),
          'norm_word: ë in the C locale too (a Dutch street name in two cases is one address)');
SELECT is(bokvar.norm_word(' .,- '), NULL, 'norm_word: nothing left is NULL');
SELECT is(bokvar.norm_word(NULL), NULL, 'norm_word: NULL');
SELECT is(bokvar.address_key('Storgatan 12 B', '753 20', 'lgh 1102'), 'STORGATAN12B|75320|1102',
          'address_key: street, postal code and apartment number');
SELECT is(bokvar.address_key('STORGATAN 12B', '75320', '1102'), bokvar.address_key('Storgatan 12 B', '753 20', 'lgh 1102'),
          'address_key: the same home written differently is one key');
SELECT is(bokvar.address_key('Östra Ågatan 5', '753 20', 'Lgh. 1102'), bokvar.address_key('östra ågatan 5', '75320', '1102'),
          'address_key: åäö in either case');
SELECT is(bokvar.address_key('Storgatan 12 B', '75320', NULL), 'STORGATAN12B|75320|', 'address_key: no apartment');
SELECT is(bokvar.address_key('Storgatan 12 B', '75320', 'lgh 1102'), 'STORGATAN12B|75320|1102', 'address_key: "lgh 1102" -> 1102');
SELECT isnt(bokvar.address_key('Storgatan 12 B', '75320', '1102'), bokvar.address_key('Storgatan 12 B', '75320', '1103'),
            'address_key: another apartment is another home');
SELECT isnt(bokvar.address_key('Storgatan 12 B', '75320', NULL), bokvar.address_key('Storgatan 12 B', '75321', NULL),
            'address_key: another postal code is another home');
SELECT is(bokvar.address_key('Storgatan 12 B', NULL, '1102'), NULL, 'address_key: NULL without postal code');
SELECT is(bokvar.address_key(NULL, '75320', '1102'), NULL, 'address_key: NULL without street');
SELECT is(bokvar.address_key('  ', '75320', NULL), NULL, 'address_key: NULL when the street is blank');
SELECT is(bokvar.address_key('Storgatan 12 B', ' - ', NULL), NULL, 'address_key: NULL when the postal code is punctuation');
SELECT is(bokvar.digits('lgh 1102'), '1102', 'digits: "lgh 1102" -> 1102');
SELECT is(bokvar.digits('lgh'), NULL, 'digits: none is NULL');

-- ---------------------------------------------------------------------
-- csv_line: the record written back.
SELECT is(bokvar.csv_line(ARRAY['A1', 'Uppsägning', '05.03.2026'], ';'), 'A1;Uppsägning;05.03.2026', 'csv_line: plain fields');
SELECT is(bokvar.csv_line(ARRAY['a', 'b;c', 'd'], ';'), 'a;"b;c";d', 'csv_line: a field with the delimiter is quoted');
SELECT is(bokvar.csv_line(ARRAY['a', 'say "hi"'], ';'), 'a;"say ""hi"""', 'csv_line: quotes are doubled inside quotes');
SELECT is(bokvar.csv_line(ARRAY['a', E'two\nlines', E'cr\rhere'], ';'), E'a;"two\nlines";"cr\rhere"',
          'csv_line: line breaks are quoted');
SELECT is(bokvar.csv_line(ARRAY['a', NULL, '', 'b'], ';'), 'a;;;b', 'csv_line: NULL and empty fields are empty');
SELECT is(bokvar.csv_line(ARRAY['a', 'b,c', 'b;c'], NULL), 'a,"b,c",b;c', 'csv_line: comma is the default delimiter');
SELECT is(bokvar.csv_line(ARRAY['a', 'b,c', 'b;c'], E'\t'), E'a\tb,c\tb;c', 'csv_line: tab delimiter quotes neither , nor ;');
SELECT is(bokvar.csv_line(ARRAY['12 345,50'], ';'), '12 345,50', 'csv_line: a decimal comma is not quoted with ;');

SELECT * FROM finish();
ROLLBACK;
