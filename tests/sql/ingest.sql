-- SPDX-License-Identifier: GPL-3.0-or-later
-- The set-based ingest of a typed stage, driven the way bokvard drives it:
-- claim the feed, stage the rows of one response as bokvard does (mapped,
-- typed and validated in C: what each row says, or why it is quarantined;
-- src/ingest/stage.h), call bokvar.ingest_fetch(). One transaction runs a
-- feed's story in order:
--
--   fetch 1  landlord feed f1, CSV: valid rows, rows to quarantine, a
--            record twice, a row the reader could not read
--   fetch 2  f1 again: an unchanged record, a changed one, new rows at
--            known homes (by address written differently, by identity number)
--   fetch 3  enforcement feed kf, JSON: the same people meet their homes
--   fetch 4  f1 with a header that lacks a mapped column
--   failure and 304 of f1, then a retry of the quarantine with a mended
--            mapping, staged again as bokvarctl does
--   f2, f3   a person known without address meets co-tenant and address
--
-- How each record is read, and every reason a row is quarantined for, is
-- C's (unit-mapping, unit-canonical, unit-identity). bokvar.ingest_cleanup()
-- between fetches drops the working tables (and the stage) that ON COMMIT
-- DROP would keep until the end.
BEGIN;
-- The helpers below name pg_temp.stage, which each fetch makes anew.
SET LOCAL check_function_bodies = off;
SELECT plan(97);

-- What each call returned, by step.
CREATE TEMP TABLE result (step text PRIMARY KEY, r jsonb);

-- The fetch record bokvard passes: now() as the start, the rest given.
CREATE FUNCTION pg_temp.fetch_info(extra jsonb) RETURNS jsonb
LANGUAGE sql AS $$
        SELECT jsonb_build_object('url', 'file:///feeds/f.csv', 'status', 200, 'bytes', 4096,
                                  'started_at', extract(epoch FROM now()), 'interval', 900) || extra
$$;

-- A signal as bokvard stages it, with the words C normalised (basic/word.h).
CREATE FUNCTION pg_temp.ok(p_seq integer, p_line integer, p_ext text, p_kind bokvar.signal_kind, p_occ date,
                           p_dl date, p_pid text, p_addr text, p_pc text, p_city text, p_apt text, p_children integer,
                           p_amount numeric, p_months integer, p_landlord text, p_key text, p_pkey text,
                           p_name text DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO pg_temp.stage (seq, line, external_id, kind, occurred_at, deadline, person_id, name, address,
                                   postal_code, city, apartment, children, amount, months_in_arrears, landlord,
                                   address_key, postal_key, city_key, landlord_key)
        VALUES (p_seq, p_line, p_ext, p_kind, p_occ, p_dl, p_pid, p_name, p_addr, p_pc, p_city, p_apt, p_children,
                p_amount, p_months, p_landlord, p_key, p_pkey, upper(p_city), upper(replace(p_landlord, ' ', '')))
$$;

-- A row to quarantine as bokvard stages it: the reason, the record as a
-- CSV line and its fields (or the JSON document), what operators see.
CREATE FUNCTION pg_temp.bad(p_seq integer, p_line integer, p_reason text, p_raw text, p_fields text[],
                            p_doc jsonb DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO pg_temp.stage (seq, line, reason, raw, fields, doc, masked)
        VALUES (p_seq, p_line, p_reason, p_raw, p_fields, p_doc, CASE WHEN p_fields IS NOT NULL OR p_doc IS NOT NULL THEN '***' END)
$$;

-- ---------------------------------------------------------------------
-- Claiming a new feed creates its row.
SELECT results_eq($$SELECT etag, last_modified, cursor, failures FROM bokvar.feed_claim('f1', 'landlord', true)$$,
                  $$VALUES (NULL::text, NULL::text, NULL::text, 0)$$,
                  'feed_claim of a new feed: no validators, no cursor, no failures');
SELECT results_eq($$SELECT source::text, total_fetches FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES ('landlord', 0::bigint)$$, 'feed_claim created the feed row');
SELECT lives_ok('SELECT bokvar.stage_create()', 'the typed stage is made by SQL, for C and for tests alike');
DROP TABLE pg_temp.stage;

-- ---------------------------------------------------------------------
-- Fetch 1: f1, CSV. The header is line 1.
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 2, 'A1', 'termination_notice', '2026-03-05', '2026-03-26', '198112289874', 'Storgatan 12 B', '753 20',
                  'Uppsala', 'lgh 1102', 2, 12345.50, 3, 'Hyresvärd AB', 'STORGATAN12B|75320|1102', '75320');
SELECT pg_temp.ok(2, 3, 'A2', 'arrears', '2026-03-01', NULL, NULL, 'STORGATAN 12B', '75320', 'Uppsala', '1102', NULL,
                  1234.00, 2, 'Hyresvärd AB', 'STORGATAN12B|75320|1102', '75320');
SELECT pg_temp.ok(3, 4, 'A3', 'termination_notice', '2026-03-10', '2026-03-31', '197001012348', 'Lillgatan 3', '753 21',
                  'Uppsala', NULL, 1, 8000.00, NULL, 'Hyresvärd AB', 'LILLGATAN3|75321|', '75321');
SELECT pg_temp.ok(4, 5, 'A4', 'arrears', '2026-03-10', NULL, '197605053458', 'Lillgatan 3', '75321', 'Uppsala', NULL,
                  NULL, 4000.00, 1, 'Hyresvärd AB', 'LILLGATAN3|75321|', '75321');
SELECT pg_temp.bad(5, 6, 'kind ''Vräkning'' is not a signal kind and not listed under map.kind.values',
                   '19920817-4566;A5;Kvarngatan 9;753 30;lgh 1201;Uppsala;Vräkning;12.03.2026;;0;;',
                   ARRAY['19920817-4566', 'A5', 'Kvarngatan 9', '753 30', 'lgh 1201', 'Uppsala', 'Vräkning', '12.03.2026', NULL, '0', NULL, NULL]);
SELECT pg_temp.bad(6, 7, 'external_id is empty', '198804046780;  ;Bergsgatan 1;753 31;;Uppsala;Påminnelse;12.03.2026;;;100;1',
                   ARRAY['198804046780', '  ', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '12.03.2026', NULL, NULL, '100', '1']);
SELECT pg_temp.bad(7, 8, 'occurred_at ''31.02.2026'' is not a date of the form DD.MM.YYYY',
                   '198804046780;A7;Bergsgatan 1;753 31;;Uppsala;Påminnelse;31.02.2026;;;100;1',
                   ARRAY['198804046780', 'A7', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '31.02.2026', NULL, NULL, '100', '1']);
SELECT pg_temp.bad(8, 9, 'amount ''-500'' is not an amount of 0 or more with at most two decimals (decimal comma)',
                   '198804046780;A8;Bergsgatan 1;753 31;;Uppsala;Påminnelse;12.03.2026;;;-500;1',
                   ARRAY['198804046780', 'A8', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '12.03.2026', NULL, NULL, '-500', '1']);
SELECT pg_temp.bad(9, 10, 'children ''två'' is not a whole number of 0 or more',
                   '198804046780;A9;Bergsgatan 1;753 31;;Uppsala;Påminnelse;12.03.2026;;två;100;1',
                   ARRAY['198804046780', 'A9', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '12.03.2026', NULL, 'två', '100', '1']);
SELECT pg_temp.bad(10, 11, 'person_id: the check digit of the Swedish personnummer is wrong',
                   '811228-9875;A10;Bergsgatan 1;753 31;;Uppsala;Påminnelse;12.03.2026;;;100;1',
                   ARRAY['811228-9875', 'A10', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '12.03.2026', NULL, NULL, '100', '1']);
SELECT pg_temp.bad(11, 12, 'neither person_id nor an address with postal_code is given, so the signal cannot be matched to a home',
                   ';A11;Okändvägen 1;;;Uppsala;Påminnelse;12.03.2026;;;100;1',
                   ARRAY[NULL, 'A11', 'Okändvägen 1', NULL, NULL, 'Uppsala', 'Påminnelse', '12.03.2026', NULL, NULL, '100', '1']);
SELECT pg_temp.ok(12, 13, 'A12', 'arrears', '2026-03-02', NULL, '198503121231', 'Åsgränd 4', '753 22', 'Uppsala', NULL, 1,
                  500.00, 1, 'Hyresvärd AB', 'ÅSGRÄND4|75322|', '75322');
SELECT pg_temp.ok(13, 14, 'A12', 'arrears', '2026-03-02', NULL, '198503121231', 'Åsgränd 4', '753 22', 'Uppsala', NULL, 1,
                  750.00, 2, 'Hyresvärd AB', 'ÅSGRÄND4|75322|', '75322');
SELECT pg_temp.bad(14, 15, 'months_in_arrears ''tre'' is not a whole number of 0 or more',
                   '198804046780;A13;Bergsgatan 1;753 31;;Uppsala;Påminnelse;12.03.2026;;;100;tre',
                   ARRAY['198804046780', 'A13', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '12.03.2026', NULL, NULL, '100', 'tre']);
SELECT pg_temp.bad(15, 16, 'kind ''Vräkning'' is not a signal kind and not listed under map.kind.values; occurred_at ''1 mars'' '
                           'is not a date of the form DD.MM.YYYY; amount ''12,345'' is not an amount of 0 or more with at '
                           'most two decimals (decimal comma)',
                   '198804046780;A14;Bergsgatan 1;753 31;;Uppsala;Vräkning;1 mars;;;"12,345";',
                   ARRAY['198804046780', 'A14', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Vräkning', '1 mars', NULL, NULL, '12,345', NULL]);
SELECT pg_temp.bad(16, 17, 'deadline ''2026-03-20'' is not a date of the form DD.MM.YYYY',
                   '19850312-1231;A15;Åsgränd 4;753 22;;Uppsala;Uppsägning;06.03.2026;2026-03-20;;;',
                   ARRAY['19850312-1231', 'A15', 'Åsgränd 4', '753 22', NULL, 'Uppsala', 'Uppsägning', '06.03.2026', '2026-03-20', NULL, NULL, NULL]);
-- A row the reader could not read: its reason and raw text alone.
INSERT INTO pg_temp.stage (seq, line, reason, raw)
VALUES (17, 18, 'the file ends inside a quoted field (truncated?)', 'A16;Uppsägning;"05.03.2026');
SELECT pg_temp.ok(18, 19, 'A17', 'arrears', '2026-03-03', NULL, '15078549995', 'Fjordveien 1', '0150', 'Oslo', NULL, NULL,
                  2500.00, 1, 'Hyresvärd AB', 'FJORDVEIEN1|0150|', '0150');
SELECT pg_temp.ok(19, 20, 'A18', 'arrears', '2026-03-04', NULL, '123456782', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                  'Hyresvärd AB', NULL, NULL);
SELECT pg_temp.ok(20, 21, 'A19', 'utility_disconnection', '2026-03-01', '2026-03-22', '198112289874', 'Storgatan 12 B',
                  '753 20', 'Uppsala', 'lgh 1102', NULL, NULL, NULL, 'Hyresvärd AB', 'STORGATAN12B|75320|1102', '75320');
SELECT pg_temp.ok(21, 22, 'A20', 'termination_notice', '2026-03-06', '2026-03-20', '198503121231', 'Åsgränd 4', '753 22',
                  'Uppsala', NULL, NULL, NULL, NULL, 'Hyresvärd AB', 'ÅSGRÄND4|75322|', '75322');
SELECT pg_temp.bad(22, 23, 'kind is empty; occurred_at is empty', '198804046780;A40;Bergsgatan 1;753 31;;Uppsala;; ;;;100;1',
                   ARRAY['198804046780', 'A40', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', NULL, ' ', NULL, NULL, '100', '1']);
SELECT pg_temp.bad(23, 24, 'external_id has 201 characters, more than the 200 allowed',
                   '198804046780;' || repeat('x', 201) || ';Bergsgatan 1;753 31;;Uppsala;Påminnelse;12.03.2026;;;100;1',
                   ARRAY['198804046780', repeat('x', 201), 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '12.03.2026', NULL, NULL, '100', '1']);

INSERT INTO result SELECT 'fetch1', bokvar.ingest_fetch('f1', '{"source": "landlord"}', pg_temp.fetch_info(
        $${"url": "file:///feeds/f1.csv", "bytes": 2345, "etag": "\"v1\"", "last_modified": null, "cursor": null,
           "header": ["Personnummer", "Ärende", "Adress", "Postnr", "Lgh", "Ort", "Typ", "Datum", "Sista dag", "Barn", "Skuld", "Månader"]}$$));
SELECT bokvar.ingest_cleanup();
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'fetch1'),
          '{"rows_read": 23, "accepted": 9, "updated": 0, "duplicate": 1, "quarantined": 13, "not_modified": false}'::jsonb,
          'fetch 1: 23 rows read, 9 accepted, 1 duplicate, 13 quarantined');
SELECT is((SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch1'),
          (SELECT max(id) FROM bokvar.fetch WHERE feed = 'f1'), 'fetch 1: the fetch_id returned is the fetch recorded');
SELECT results_eq($$SELECT feed, url, status, bytes, header, rows_read, accepted, updated, duplicate, quarantined,
                          abs(extract(epoch FROM started_at - now())) < 0.001, finished_at >= started_at
                   FROM bokvar.fetch$$,
                  $$VALUES ('f1', 'file:///feeds/f1.csv', 200, 2345::bigint,
                            ARRAY['Personnummer', 'Ärende', 'Adress', 'Postnr', 'Lgh', 'Ort', 'Typ', 'Datum', 'Sista dag', 'Barn', 'Skuld', 'Månader'],
                            23, 9, 0, 1, 13, true, true)$$,
                  'fetch 1: the fetch row records the response and the counts');

-- Mapped by column name, typed, with the constant landlord and derived deadlines.
SELECT results_eq($$
        SELECT external_id COLLATE "default", version, source::text, kind::text, occurred_at, deadline, person_id, address, postal_code,
               city, apartment, children, amount, months_in_arrears, landlord, line
        FROM bokvar.signal ORDER BY external_id$$,
        $$VALUES
        ('A1', 1, 'landlord', 'termination_notice', DATE '2026-03-05', DATE '2026-03-26', '198112289874', 'Storgatan 12 B', '753 20',
         'Uppsala', 'lgh 1102', 2, 12345.50::numeric(14, 2), 3, 'Hyresvärd AB', 2),
        ('A12', 1, 'landlord', 'arrears', DATE '2026-03-02', NULL, '198503121231', 'Åsgränd 4', '753 22',
         'Uppsala', NULL, 1, 750.00, 2, 'Hyresvärd AB', 14),
        ('A17', 1, 'landlord', 'arrears', DATE '2026-03-03', NULL, '15078549995', 'Fjordveien 1', '0150',
         'Oslo', NULL, NULL, 2500.00, 1, 'Hyresvärd AB', 19),
        ('A18', 1, 'landlord', 'arrears', DATE '2026-03-04', NULL, '123456782', NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, 'Hyresvärd AB', 20),
        ('A19', 1, 'landlord', 'utility_disconnection', DATE '2026-03-01', DATE '2026-03-22', '198112289874', 'Storgatan 12 B', '753 20',
         'Uppsala', 'lgh 1102', NULL, NULL, NULL, 'Hyresvärd AB', 21),
        ('A2', 1, 'landlord', 'arrears', DATE '2026-03-01', NULL, NULL, 'STORGATAN 12B', '75320',
         'Uppsala', '1102', NULL, 1234.00, 2, 'Hyresvärd AB', 3),
        ('A20', 1, 'landlord', 'termination_notice', DATE '2026-03-06', DATE '2026-03-20', '198503121231', 'Åsgränd 4', '753 22',
         'Uppsala', NULL, NULL, NULL, NULL, 'Hyresvärd AB', 22),
        ('A3', 1, 'landlord', 'termination_notice', DATE '2026-03-10', DATE '2026-03-31', '197001012348', 'Lillgatan 3', '753 21',
         'Uppsala', NULL, 1, 8000.00, NULL, 'Hyresvärd AB', 4),
        ('A4', 1, 'landlord', 'arrears', DATE '2026-03-10', NULL, '197605053458', 'Lillgatan 3', '75321',
         'Uppsala', NULL, NULL, 4000.00, 1, 'Hyresvärd AB', 5)$$,
        'fetch 1: nine signals, mapped by column name, identity numbers normalised, amounts read with a decimal comma, '
        'deadlines given or derived (+21 days for termination_notice and utility_disconnection)');
SELECT is((SELECT count(*)::integer FROM bokvar.signal WHERE fetch_id = (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch1')),
          9, 'fetch 1: the signals point at their fetch');

-- Every bad row in quarantine with its reason; the good rows were ingested anyway.
SELECT results_eq($$SELECT line, reason FROM bokvar.quarantine WHERE line <> 18 ORDER BY line$$,
        $$VALUES
        (6, 'kind ''Vräkning'' is not a signal kind and not listed under map.kind.values'),
        (7, 'external_id is empty'),
        (8, 'occurred_at ''31.02.2026'' is not a date of the form DD.MM.YYYY'),
        (9, 'amount ''-500'' is not an amount of 0 or more with at most two decimals (decimal comma)'),
        (10, 'children ''två'' is not a whole number of 0 or more'),
        (11, 'person_id: the check digit of the Swedish personnummer is wrong'),
        (12, 'neither person_id nor an address with postal_code is given, so the signal cannot be matched to a home'),
        (15, 'months_in_arrears ''tre'' is not a whole number of 0 or more'),
        (16, 'kind ''Vräkning'' is not a signal kind and not listed under map.kind.values; '
             'occurred_at ''1 mars'' is not a date of the form DD.MM.YYYY; '
             'amount ''12,345'' is not an amount of 0 or more with at most two decimals (decimal comma)'),
        (17, 'deadline ''2026-03-20'' is not a date of the form DD.MM.YYYY'),
        (23, 'kind is empty; occurred_at is empty'),
        (24, 'external_id has 201 characters, more than the 200 allowed')$$,
        'fetch 1: each bad row is quarantined with every reason, in words');
-- The reader's reason alone: not the reasons of every field such a row lacks.
SELECT results_eq($$SELECT line, reason FROM bokvar.quarantine WHERE line = 18$$,
                  $$VALUES (18, 'the file ends inside a quoted field (truncated?)')$$,
                  'fetch 1: a row the reader could not read is quarantined with the reader''s reason');
SELECT is_empty($$SELECT line, reason FROM bokvar.quarantine
                  WHERE strpos(reason, '8112289875') > 0 OR strpos(reason, '811228-9875') > 0 OR reason ~ '\d{10}'$$,
                'fetch 1: no reason repeats an identity number');
SELECT results_eq($$SELECT DISTINCT feed, fetch_id FROM bokvar.quarantine$$,
                  $$SELECT 'f1', (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch1'$$,
                  'fetch 1: quarantined rows carry their feed and fetch');
SELECT results_eq($$SELECT raw, fields IS NOT NULL, doc IS NULL FROM bokvar.quarantine WHERE line IN (6, 12) ORDER BY line$$,
        $$VALUES ('19920817-4566;A5;Kvarngatan 9;753 30;lgh 1201;Uppsala;Vräkning;12.03.2026;;0;;', true, true),
                 (';A11;Okändvägen 1;;;Uppsala;Påminnelse;12.03.2026;;;100;1', true, true)$$,
        'fetch 1: a quarantined CSV row keeps its fields and shows them as a CSV line with the feed''s delimiter');
SELECT results_eq($$SELECT raw, fields, doc FROM bokvar.quarantine WHERE line = 18$$,
                  $$VALUES ('A16;Uppsägning;"05.03.2026', NULL::text[], NULL::jsonb)$$,
                  'fetch 1: a row the reader could not read keeps its raw text, without fields or doc');
SELECT results_eq($$SELECT fields[2] FROM bokvar.quarantine WHERE line = 16$$, $$VALUES ('A14')$$,
                  'fetch 1: quarantine keeps the fields as staged, for a retry');

-- The same record twice in one delivery: the last line counts.
SELECT results_eq($$SELECT count(*)::integer, min(line), min(amount), min(months_in_arrears) FROM bokvar.signal WHERE external_id = 'A12'$$,
                  $$VALUES (1, 14, 750.00::numeric(14, 2), 2)$$,
                  'fetch 1: A12 delivered on lines 13 and 14 is one signal, from line 14');
SELECT is_empty($$SELECT * FROM bokvar.signal_version$$, 'fetch 1: no earlier versions yet');

-- Households: by identity number, else by the address written any way.
SELECT results_eq($$SELECT array_agg(external_id COLLATE "default" ORDER BY external_id) FROM bokvar.signal GROUP BY household_id ORDER BY 1$$,
        $$VALUES (ARRAY['A1', 'A19', 'A2']), (ARRAY['A12', 'A20']), (ARRAY['A17']), (ARRAY['A18']), (ARRAY['A3', 'A4'])$$,
        'fetch 1: five homes; "Storgatan 12 B" and "STORGATAN 12B" without identity number are one; co-tenants share one');
SELECT results_eq($$SELECT h.address_key COLLATE "default", h.postal_code, h.city, h.landlord, h.children, h.children_at,
                          h.first_signal_at, h.last_signal_at
                   FROM bokvar.household h ORDER BY h.address_key COLLATE "C" NULLS LAST$$,
        $$VALUES
        ('FJORDVEIEN1|0150|', '0150', 'Oslo', 'Hyresvärd AB', NULL::integer, NULL::date, DATE '2026-03-03', DATE '2026-03-03'),
        ('LILLGATAN3|75321|', '75321', 'Uppsala', 'Hyresvärd AB', 1, DATE '2026-03-10', DATE '2026-03-10', DATE '2026-03-10'),
        ('STORGATAN12B|75320|1102', '75320', 'Uppsala', 'Hyresvärd AB', 2, DATE '2026-03-05', DATE '2026-03-01', DATE '2026-03-05'),
        ('ÅSGRÄND4|75322|', '75322', 'Uppsala', 'Hyresvärd AB', 1, DATE '2026-03-02', DATE '2026-03-02', DATE '2026-03-06'),
        (NULL, NULL, NULL, 'Hyresvärd AB', NULL, NULL, DATE '2026-03-04', DATE '2026-03-04')$$,
        'fetch 1: each home has its normalised address key, postal code, latest city and landlord, children and dates');
SELECT results_eq($$SELECT p.person_id COLLATE "default", s.external_id COLLATE "default"
                   FROM bokvar.household_person p
                   JOIN LATERAL (SELECT min(external_id) AS external_id FROM bokvar.signal s WHERE s.household_id = p.household_id) s ON true
                   ORDER BY 1$$,
        $$VALUES ('123456782', 'A18'), ('15078549995', 'A17'), ('197001012348', 'A3'), ('197605053458', 'A3'),
                 ('198112289874', 'A1'), ('198503121231', 'A12')$$,
        'fetch 1: each valid identity number belongs to the home of its signals');
SELECT is((SELECT household_id FROM bokvar.signal WHERE external_id = 'A2'),
          (SELECT household_id FROM bokvar.household_person WHERE person_id = '198112289874'),
          'fetch 1: the row without identity number at P1''s address is P1''s home');

-- The feed's counters are the fetch's.
SELECT results_eq($$SELECT f.etag, f.last_modified, f.cursor, f.last_status, f.last_error, f.failures,
                          f.last_rows_read, f.last_accepted, f.last_updated, f.last_duplicate, f.last_quarantined,
                          f.total_rows_read, f.total_accepted, f.total_updated, f.total_duplicate, f.total_quarantined,
                          f.total_fetches, f.total_failures, f.next_due_at, f.last_success_at, f.last_duration_ms >= 0
                   FROM bokvar.feed f WHERE name = 'f1'$$,
        $$VALUES ('"v1"', NULL::text, NULL::text, 200, NULL::text, 0, 23, 9, 0, 1, 13,
                  23::bigint, 9::bigint, 0::bigint, 1::bigint, 13::bigint, 1::bigint, 0::bigint,
                  now() + interval '900 seconds', now(), true)$$,
        'fetch 1: the feed records validators, status, counts and when it is due again');

-- ---------------------------------------------------------------------
-- Fetch 2: f1 again.
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 2, 'A1', 'termination_notice', '2026-03-05', '2026-03-26', '198112289874', 'Storgatan 12 B', '753 20',
                  'Uppsala', 'lgh 1102', 2, 12345.50, 3, 'Hyresvärd AB', 'STORGATAN12B|75320|1102', '75320');
SELECT pg_temp.ok(2, 3, 'A2', 'arrears', '2026-03-01', NULL, NULL, 'STORGATAN 12B', '75320', 'Uppsala', '1102', NULL,
                  2000.00, 2, 'Hyresvärd AB', 'STORGATAN12B|75320|1102', '75320');
SELECT pg_temp.ok(3, 4, 'A21', 'arrears', '2026-03-01', NULL, NULL, 'storgatan 12 b', '753 20', 'Uppsala', 'Lgh 1102', 1,
                  300.00, 1, 'Hyresvärd AB', 'STORGATAN12B|75320|1102', '75320');
SELECT pg_temp.ok(4, 5, 'A22', 'arrears', '2026-02-01', NULL, '198112289874', NULL, NULL, NULL, NULL, 1, 100.00, 1,
                  'Hyresvärd AB', NULL, NULL);
SELECT pg_temp.ok(5, 6, 'A23', 'arrears', '2026-03-15', NULL, '197001012348', 'Lillgatan 3', '753 21', 'Uppsala', NULL, 3,
                  9000.00, 2, 'Hyresvärd AB', 'LILLGATAN3|75321|', '75321');
SELECT pg_temp.ok(6, 7, 'A24', 'arrears', '2026-03-16', NULL, '198112289874', 'Nygatan 5', '753 40', 'Uppsala', NULL, NULL,
                  100.00, 1, 'Hyresvärd AB', 'NYGATAN5|75340|', '75340');
SELECT pg_temp.ok(7, 8, 'A25', 'arrears', '2026-03-16', NULL, '123456782', 'Grachtstraat 1', '1011 AB', 'Amsterdam', NULL,
                  NULL, 100.00, 1, 'Hyresvärd AB', 'GRACHTSTRAAT1|1011AB|', '1011AB');
SELECT pg_temp.ok(8, 9, 'A26', 'arrears', '2026-03-17', NULL, '195505055557', 'LILLGATAN 3', '75321', 'Uppsala', NULL, NULL,
                  100.00, 1, 'Hyresvärd AB', 'LILLGATAN3|75321|', '75321');
SELECT pg_temp.ok(9, 10, 'A27', 'arrears', '2026-03-18', NULL, '195505055557', NULL, NULL, NULL, NULL, NULL, 100.00, 1,
                  'Hyresvärd AB', NULL, NULL);
INSERT INTO result SELECT 'fetch2', bokvar.ingest_fetch('f1', '{"source": "landlord"}', pg_temp.fetch_info(
        $${"url": "file:///feeds/f1.csv", "bytes": 999, "etag": "\"v2\"", "last_modified": "Wed, 18 Mar 2026 10:00:00 GMT",
           "cursor": "https://example.org/f1?page=3",
           "header": ["Ärende", "Typ", "Datum", "Sista dag", "Personnummer", "Adress", "Postnr", "Lgh", "Ort", "Barn", "Skuld", "Månader"]}$$));
SELECT bokvar.ingest_cleanup();

SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'fetch2'),
          '{"rows_read": 9, "accepted": 7, "updated": 1, "duplicate": 1, "quarantined": 0, "not_modified": false}'::jsonb,
          'fetch 2: the unchanged record is a duplicate, the changed one updated, seven new');
SELECT results_eq($$SELECT version, fetch_id, line FROM bokvar.signal WHERE external_id = 'A1'$$,
                  $$SELECT 1, (r ->> 'fetch_id')::bigint, 2 FROM result WHERE step = 'fetch1'$$,
                  'fetch 2: the unchanged record is left as it was (version 1, still from fetch 1)');
SELECT results_eq($$SELECT version, amount, fetch_id, line FROM bokvar.signal WHERE external_id = 'A2'$$,
                  $$SELECT 2, 2000.00::numeric(14, 2), (r ->> 'fetch_id')::bigint, 3 FROM result WHERE step = 'fetch2'$$,
                  'fetch 2: the changed record is updated to version 2 from fetch 2');
SELECT results_eq($$SELECT v.external_id COLLATE "default", v.version, v.amount, v.fetch_id, v.signal_id = s.id, v.household_id = s.household_id
                   FROM bokvar.signal_version v JOIN bokvar.signal s USING (feed, external_id)$$,
                  $$SELECT 'A2', 1, 1234.00::numeric(14, 2), (r ->> 'fetch_id')::bigint, true, true FROM result WHERE step = 'fetch1'$$,
                  'fetch 2: version 1 of the changed record is kept in signal_version, and only that');
SELECT results_eq($$SELECT array_agg(external_id COLLATE "default" ORDER BY external_id) FROM bokvar.signal GROUP BY household_id ORDER BY 1$$,
        $$VALUES (ARRAY['A1', 'A19', 'A2', 'A21']), (ARRAY['A12', 'A20']), (ARRAY['A17']), (ARRAY['A18', 'A25']),
                 (ARRAY['A22', 'A24']), (ARRAY['A23', 'A26', 'A27', 'A3', 'A4'])$$,
        'fetch 2: "storgatan 12 b" finds its home by address; P1 reported at a new address starts a home there, and '
        'their row without address (by identity number) goes with them; a new co-tenant at a known address with and '
        'without address');
SELECT is((SELECT count(*)::integer FROM bokvar.household), 6, 'fetch 2: one new household, P1''s new home');
SELECT is((SELECT household_id FROM bokvar.household_person WHERE person_id = '195505055557'),
          (SELECT household_id FROM bokvar.signal WHERE external_id = 'A3'), 'fetch 2: the new co-tenant belongs to the known home');
SELECT results_eq($$SELECT children, children_at, first_signal_at, last_signal_at FROM bokvar.household
                   WHERE address_key = 'STORGATAN12B|75320|1102'$$,
                  $$VALUES (2, DATE '2026-03-05', DATE '2026-03-01', DATE '2026-03-05')$$,
                  'fetch 2: the home P1 left keeps its children: a count reported for an earlier date (A21''s) does not '
                  'replace the more recent one');
SELECT results_eq($$SELECT address_key COLLATE "default", children, children_at, first_signal_at, last_signal_at
                   FROM bokvar.household
                   WHERE id = (SELECT household_id FROM bokvar.household_person WHERE person_id = '198112289874')$$,
                  $$VALUES ('NYGATAN5|75340|', 1, DATE '2026-02-01', DATE '2026-02-01', DATE '2026-03-16')$$,
                  'fetch 2: P1''s home is now the new one, with the count of children reported with them there');
SELECT results_eq($$SELECT children, children_at FROM bokvar.household WHERE address_key = 'LILLGATAN3|75321|'$$,
                  $$VALUES (3, DATE '2026-03-15')$$,
                  'fetch 2: a count of children reported for a later date replaces the earlier one');
SELECT results_eq($$SELECT address_key COLLATE "default", postal_code, city FROM bokvar.household
                   WHERE id = (SELECT household_id FROM bokvar.household_person WHERE person_id = '123456782')$$,
                  $$VALUES ('GRACHTSTRAAT1|1011AB|', '1011AB', 'Amsterdam')$$,
                  'fetch 2: a home known by identity number alone learns its address');
SELECT is((SELECT count(*)::integer FROM bokvar.household WHERE address_key LIKE 'STORGATAN%'), 1,
          'fetch 2: the home P1 left keeps its own address');
SELECT results_eq($$SELECT etag, last_modified, cursor FROM bokvar.feed_claim('f1', 'landlord', true)$$,
                  $$VALUES ('"v2"', 'Wed, 18 Mar 2026 10:00:00 GMT', 'https://example.org/f1?page=3')$$,
                  'fetch 2: the next claim returns the new validators and the cursor');
SELECT results_eq($$SELECT last_rows_read, last_accepted, last_updated, last_duplicate, last_quarantined,
                          total_rows_read, total_accepted, total_updated, total_duplicate, total_quarantined, total_fetches
                   FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES (9, 7, 1, 1, 0, 32::bigint, 16::bigint, 1::bigint, 2::bigint, 13::bigint, 2::bigint)$$,
                  'fetch 2: last_* are this fetch''s counts, total_* the sums');
SELECT results_eq($$SELECT sum(rows_read)::bigint, sum(accepted)::bigint, sum(updated)::bigint, sum(duplicate)::bigint,
                          sum(quarantined)::bigint, count(*)
                   FROM bokvar.fetch WHERE feed = 'f1'$$,
                  $$SELECT total_rows_read, total_accepted, total_updated, total_duplicate, total_quarantined, total_fetches
                    FROM bokvar.feed WHERE name = 'f1'$$,
                  'fetch 2: the feed''s totals are the sums over its fetches');
SELECT is((SELECT count(*)::integer FROM bokvar.signal WHERE feed = 'f1'), 16, 'fetch 2: 16 signals = total accepted');

-- ---------------------------------------------------------------------
-- Fetch 3: enforcement feed kf, the records of a JSON array written on one
-- line (seq numbers them, they share line 1).
SELECT results_eq($$SELECT etag, cursor, failures FROM bokvar.feed_claim('kf', 'enforcement', true)$$,
                  $$VALUES (NULL::text, NULL::text, 0)$$, 'feed_claim of a second feed');
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 1, 'K1', 'eviction_application', '2026-03-20', NULL, '198112289874', NULL, NULL, 'Uppsala', NULL, 3,
                  15000.50, NULL, 'Hyresvärd AB', NULL, NULL);
SELECT pg_temp.ok(2, 1, 'K2', 'eviction_scheduled', '2026-04-15', '2026-04-15', '198503121231', NULL, NULL, 'Uppsala', NULL,
                  1, 999.00, NULL, 'Bostadsbolaget', NULL, NULL);
SELECT pg_temp.bad(3, 1, 'person_id: looks like a Norwegian identity number, which this feed does not accept (identity: se)',
                   NULL, NULL, '{"case": {"id": "K3"}, "type": "avhysning", "date": "2026-03-21", "party": {"pnr": "15078549995"}}');
SELECT pg_temp.ok(4, 1, 'K4', 'eviction_executed', '2026-03-22', NULL, '196509235674', NULL, NULL, 'Uppsala', NULL, NULL,
                  NULL, NULL, 'Stiftelsen Bostäder', NULL, NULL);
SELECT pg_temp.bad(5, 1, 'deadline ''15.04.2026'' is not a date of the form YYYY-MM-DD', NULL, NULL,
                   '{"case": {"id": "K5"}, "type": "avhysning", "date": "2026-03-23", "hearing": "15.04.2026", "party": {"pnr": "198804046780"}}');
SELECT pg_temp.ok(6, 1, 'K6', 'eviction_cancelled', '2026-03-25', NULL, '196509235674', NULL, NULL, 'Uppsala', NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL);
SELECT pg_temp.ok(7, 1, 'K2', 'eviction_scheduled', '2026-04-15', '2026-04-15', '198503121231', NULL, NULL, 'Uppsala', NULL,
                  4, 1500.50, NULL, 'Bostadsbolaget', NULL, NULL);
INSERT INTO result SELECT 'fetch3', bokvar.ingest_fetch('kf', '{"source": "enforcement"}', pg_temp.fetch_info(
        $${"url": "https://kf.example/api/cases", "status": 200, "bytes": 777, "etag": null, "last_modified": "Fri, 20 Mar 2026 08:00:00 GMT",
           "cursor": null, "header": null}$$));
SELECT bokvar.ingest_cleanup();

SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'fetch3'),
          '{"rows_read": 7, "accepted": 4, "updated": 0, "duplicate": 1, "quarantined": 2, "not_modified": false}'::jsonb,
          'fetch 3: seven records, four accepted, one duplicate, two quarantined');
SELECT results_eq($$SELECT external_id COLLATE "default", source::text, kind::text, occurred_at, deadline, person_id, city, children, amount, landlord, line
                   FROM bokvar.signal WHERE feed = 'kf' ORDER BY external_id$$,
        $$VALUES
        ('K1', 'enforcement', 'eviction_application', DATE '2026-03-20', NULL::date, '198112289874', 'Uppsala', 3, 15000.50::numeric(14, 2), 'Hyresvärd AB', 1),
        ('K2', 'enforcement', 'eviction_scheduled', DATE '2026-04-15', DATE '2026-04-15', '198503121231', 'Uppsala', 4, 1500.50, 'Bostadsbolaget', 1),
        ('K4', 'enforcement', 'eviction_executed', DATE '2026-03-22', NULL, '196509235674', 'Uppsala', NULL, NULL, 'Stiftelsen Bostäder', 1),
        ('K6', 'enforcement', 'eviction_cancelled', DATE '2026-03-25', NULL, '196509235674', 'Uppsala', NULL, NULL, NULL, 1)$$,
        'fetch 3: mapped by JSON path; a JSON number is an amount whatever the decimal separator; constants; '
        'canonical kinds pass in any case; of K2 twice on one line the later record counts');
SELECT results_eq($$SELECT doc #>> '{case,id}', line, reason, raw = doc::text, fields IS NULL FROM bokvar.quarantine WHERE feed = 'kf'
                   ORDER BY doc #>> '{case,id}'$$,
        $$VALUES ('K3', 1, 'person_id: looks like a Norwegian identity number, which this feed does not accept (identity: se)', true, true),
                 ('K5', 1, 'deadline ''15.04.2026'' is not a date of the form YYYY-MM-DD', true, true)$$,
        'fetch 3: a Norwegian number in a Swedish-only feed and a bad deadline are quarantined, the raw being the record');
SELECT is_empty($$SELECT 1 FROM bokvar.quarantine WHERE feed = 'kf' AND strpos(reason, '15078549995') > 0$$,
                'fetch 3: the refused identity number is not in the reason');
SELECT is((SELECT household_id FROM bokvar.signal WHERE external_id = 'K1'),
          (SELECT household_id FROM bokvar.signal WHERE external_id = 'A24'),
          'fetch 3: the enforcement agency''s case without an address meets P1 where P1 was last reported, by identity number');
SELECT is((SELECT household_id FROM bokvar.signal WHERE external_id = 'K2'),
          (SELECT household_id FROM bokvar.signal WHERE external_id = 'A12'),
          'fetch 3: ... and for the second person too');
SELECT results_eq($$SELECT h.address_key COLLATE "default", h.children, h.children_at, h.last_signal_at, h.landlord, h.city
                   FROM bokvar.household h WHERE h.id IN (SELECT household_id FROM bokvar.signal WHERE external_id IN ('K1', 'K2'))
                   ORDER BY h.address_key COLLATE "C"$$,
        $$VALUES ('NYGATAN5|75340|', 3, DATE '2026-03-20', DATE '2026-03-20', 'Hyresvärd AB', 'Uppsala'),
                 ('ÅSGRÄND4|75322|', 4, DATE '2026-04-15', DATE '2026-04-15', 'Bostadsbolaget', 'Uppsala')$$,
        'fetch 3: the homes take the most recent children count across feeds, and the latest landlord');
SELECT results_eq($$SELECT h.address_key, h.first_signal_at, p.person_id COLLATE "default"
                   FROM bokvar.household h JOIN bokvar.household_person p ON p.household_id = h.id
                   JOIN bokvar.signal s ON s.household_id = h.id WHERE s.external_id = 'K4'$$,
                  $$VALUES (NULL::text, DATE '2026-03-22', '196509235674')$$,
                  'fetch 3: a new person without address gets a home of their own');
SELECT is((SELECT h.landlord FROM bokvar.household h JOIN bokvar.signal s ON s.household_id = h.id WHERE s.external_id = 'K4'),
          'Stiftelsen Bostäder', 'fetch 3: a new home takes the latest landlord reported, even when the latest row names none');
SELECT is((SELECT count(*)::integer FROM bokvar.household), 7, 'fetch 3: seven households');
SELECT results_eq($$SELECT etag, last_modified, cursor, total_accepted, total_quarantined FROM bokvar.feed WHERE name = 'kf'$$,
                  $$VALUES (NULL::text, 'Fri, 20 Mar 2026 08:00:00 GMT', NULL::text, 4::bigint, 2::bigint)$$,
                  'fetch 3: the second feed has counters of its own');
SELECT results_eq($$SELECT total_accepted, total_fetches FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES (16::bigint, 2::bigint)$$, 'fetch 3: ... and left the first feed''s alone');

-- ---------------------------------------------------------------------
-- Fetch 4: f1, a response whose header lacks the column Barn: C says so in
-- every row's reason.
SELECT bokvar.stage_create();
SELECT pg_temp.bad(1, 2, 'column ''Barn'' (mapped to children) is not in the header',
                   '198804046780;A30;Bergsgatan 1;753 31;;Uppsala;Påminnelse;13.03.2026;;100;1',
                   ARRAY['198804046780', 'A30', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Påminnelse', '13.03.2026', NULL, '100', '1']);
SELECT pg_temp.bad(2, 3, 'column ''Barn'' (mapped to children) is not in the header; kind ''Vräkning'' is not a signal kind and not listed under map.kind.values',
                   '198804046780;A31;Bergsgatan 1;753 31;;Uppsala;Vräkning;13.03.2026;;100;1',
                   ARRAY['198804046780', 'A31', 'Bergsgatan 1', '753 31', NULL, 'Uppsala', 'Vräkning', '13.03.2026', NULL, '100', '1']);
INSERT INTO result SELECT 'fetch4', bokvar.ingest_fetch('f1', '{"source": "landlord"}', pg_temp.fetch_info(
        $${"url": "file:///feeds/f1.csv", "cursor": null,
           "header": ["Personnummer", "Ärende", "Adress", "Postnr", "Lgh", "Ort", "Typ", "Datum", "Sista dag", "Skuld", "Månader"]}$$));
SELECT bokvar.ingest_cleanup();

SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'fetch4'),
          '{"rows_read": 2, "accepted": 0, "updated": 0, "duplicate": 0, "quarantined": 2, "not_modified": false}'::jsonb,
          'fetch 4: nothing is ingested from a response without a mapped column');
SELECT results_eq($$SELECT line, reason FROM bokvar.quarantine WHERE fetch_id = (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch4')
                   ORDER BY line$$,
        $$VALUES (2, 'column ''Barn'' (mapped to children) is not in the header'),
                 (3, 'column ''Barn'' (mapped to children) is not in the header; kind ''Vräkning'' is not a signal kind and not listed under map.kind.values')$$,
        'fetch 4: the missing column is named in every row''s reason, before the row''s own problems');
SELECT results_eq($$SELECT etag, last_modified, cursor FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES ('"v2"', 'Wed, 18 Mar 2026 10:00:00 GMT', NULL::text)$$,
                  'fetch 4: validators not in the response are kept; the cursor is what the response says');

-- ---------------------------------------------------------------------
-- A failed attempt, then a 304.
SELECT bokvar.feed_failed('f1', 503, 'HTTP 503 Service Unavailable', 120, 1500);
SELECT results_eq($$SELECT last_status, last_error, failures, total_failures, last_duration_ms, next_due_at, last_attempt_at,
                          total_fetches, etag
                   FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES (503, 'HTTP 503 Service Unavailable', 1, 1::bigint, 1500, now() + interval '120 seconds', now(), 3::bigint, '"v2"')$$,
                  'feed_failed records the error, counts the failure and sets when to try again');
SELECT bokvar.feed_failed('f1', 0, 'connection refused', 240, 5);
SELECT results_eq($$SELECT failures, total_failures, last_error, next_due_at FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES (2, 2::bigint, 'connection refused', now() + interval '240 seconds')$$,
                  'feed_failed again: consecutive failures are counted for backoff');
SELECT results_eq($$SELECT failures FROM bokvar.feed_claim('f1', 'landlord', true)$$, $$VALUES (2)$$,
                  'feed_claim returns the consecutive failures');

INSERT INTO result SELECT 'notmod', bokvar.ingest_fetch('f1', '{"source": "landlord"}',
        pg_temp.fetch_info('{"status": 304, "not_modified": true, "interval": 600}'));
SELECT is((SELECT r FROM result WHERE step = 'notmod'),
          '{"fetch_id": null, "rows_read": 0, "accepted": 0, "updated": 0, "duplicate": 0, "quarantined": 0, "not_modified": true}'::jsonb,
          '304: nothing read');
SELECT results_eq($$SELECT last_status, last_error, failures, last_rows_read, last_accepted, last_quarantined, total_fetches,
                          total_rows_read, total_failures, next_due_at, last_success_at, etag
                   FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES (304, NULL::text, 0, 0, 0, 0, 4::bigint, 34::bigint, 2::bigint, now() + interval '600 seconds', now(), '"v2"')$$,
                  '304: a success that clears the failures, counts a fetch and keeps the validators');
SELECT is((SELECT count(*)::integer FROM bokvar.fetch WHERE feed = 'f1'), 3, '304: no fetch row');

-- ---------------------------------------------------------------------
-- Quarantine retry, as bokvarctl does it with a mapping that knows the kind
-- "Vräkning": the rows it may read again, fetch by fetch, staged again (C
-- maps them; here the stage says what it would say), ingested again.
SELECT is((SELECT count(*)::integer FROM bokvar.quarantine WHERE feed = 'f1'), 15, 'before retry: 15 rows of f1 in quarantine');
CREATE TEMP TABLE before_retry AS SELECT id, line, fetch_id, reason FROM bokvar.quarantine;
CREATE TEMP TABLE retry_rows AS SELECT * FROM bokvar.quarantine_retry_rows('f1');
SELECT results_eq($$SELECT fetch_id, count(*)::integer, bool_and(fields IS NOT NULL AND doc IS NULL) FROM retry_rows
                   GROUP BY fetch_id ORDER BY fetch_id$$,
                  $$SELECT (r ->> 'fetch_id')::bigint, CASE step WHEN 'fetch1' THEN 12 ELSE 2 END, true FROM result
                    WHERE step IN ('fetch1', 'fetch4') ORDER BY 1$$,
                  'retry: the rows of each fetch with their fields, but not the one the reader could not read');
SELECT is((SELECT header FROM retry_rows WHERE line = 6),
          '["Personnummer", "Ärende", "Adress", "Postnr", "Lgh", "Ort", "Typ", "Datum", "Sista dag", "Barn", "Skuld", "Månader"]'::jsonb,
          'retry: ... and their fetch''s header');
-- Fetch 1's rows: line 6 now passes, line 16 has one problem less.
SELECT bokvar.stage_create();
SELECT pg_temp.ok(n::integer, line, 'A5', 'eviction_scheduled', '2026-03-12', '2026-03-12', '199208174566', 'Kvarngatan 9',
                  '753 30', 'Uppsala', 'lgh 1201', 0, NULL, NULL, 'Hyresvärd AB', 'KVARNGATAN9|75330|1201', '75330')
FROM (SELECT line, row_number() OVER (ORDER BY id) n FROM retry_rows
      WHERE fetch_id = (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch1')) x WHERE line = 6;
SELECT pg_temp.bad(n::integer, q.line, CASE q.line WHEN 16 THEN 'occurred_at ''1 mars'' is not a date of the form DD.MM.YYYY; '
                                                                'amount ''12,345'' is not an amount of 0 or more with at most two decimals (decimal comma)'
                                                   ELSE q.reason END,
                   q.raw, q.fields)
FROM (SELECT r.line, r.id, row_number() OVER (ORDER BY r.id) n FROM retry_rows r
      WHERE r.fetch_id = (SELECT (x.r ->> 'fetch_id')::bigint FROM result x WHERE x.step = 'fetch1')) x
JOIN bokvar.quarantine q ON q.id = x.id WHERE x.line <> 6;
INSERT INTO result SELECT 'retry1', to_jsonb(x) FROM bokvar.quarantine_retry_fetch('f1', 'landlord',
        (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch1'),
        ARRAY(SELECT id FROM retry_rows WHERE fetch_id = (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch1'))) x;
-- Fetch 4's rows: line 3's kind is known now; the column is still missing.
SELECT bokvar.stage_create();
SELECT pg_temp.bad(n::integer, q.line, 'column ''Barn'' (mapped to children) is not in the header', q.raw, q.fields)
FROM (SELECT r.id, row_number() OVER (ORDER BY r.id) n FROM retry_rows r
      WHERE r.fetch_id = (SELECT (x.r ->> 'fetch_id')::bigint FROM result x WHERE x.step = 'fetch4')) x
JOIN bokvar.quarantine q ON q.id = x.id;
INSERT INTO result SELECT 'retry4', to_jsonb(x) FROM bokvar.quarantine_retry_fetch('f1', 'landlord',
        (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch4'),
        ARRAY(SELECT id FROM retry_rows WHERE fetch_id = (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch4'))) x;
SELECT bokvar.quarantine_retried('f1', '{"retried": 14, "accepted": 1, "updated": 0, "duplicate": 0, "still_quarantined": 13}');

SELECT is((SELECT jsonb_agg(r ORDER BY step) FROM result WHERE step LIKE 'retry_'),
          '[{"rows_read": 12, "accepted": 1, "updated": 0, "duplicate": 0, "quarantined": 11},
            {"rows_read": 2, "accepted": 0, "updated": 0, "duplicate": 0, "quarantined": 2}]'::jsonb,
          'retry: 14 rows retried (not the unreadable one), 1 accepted, 13 still quarantined');
SELECT results_eq($$SELECT kind::text, occurred_at, deadline, person_id, children, line, fetch_id, version
                   FROM bokvar.signal WHERE external_id = 'A5'$$,
                  $$SELECT 'eviction_scheduled', DATE '2026-03-12', DATE '2026-03-12', '199208174566', 0, 6,
                           (r ->> 'fetch_id')::bigint, 1
                    FROM result WHERE step = 'fetch1'$$,
                  'retry: the row that now passes is ingested, with its original fetch and line');
SELECT results_eq($$SELECT h.address_key COLLATE "default", h.children FROM bokvar.household h
                   JOIN bokvar.signal s ON s.household_id = h.id WHERE s.external_id = 'A5'$$,
                  $$VALUES ('KVARNGATAN9|75330|1201', 0)$$, 'retry: ... and matched to a new home');
SELECT is_empty($$SELECT * FROM bokvar.quarantine WHERE feed = 'f1' AND line = 6 AND fetch_id = (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch1')$$,
                'retry: the ingested row left quarantine');
SELECT results_eq($$SELECT q.fetch_id, q.line, q.reason FROM bokvar.quarantine q WHERE q.feed = 'f1' ORDER BY q.fetch_id, q.line$$,
        $$SELECT fetch_id, line, CASE line
                     WHEN 16 THEN 'occurred_at ''1 mars'' is not a date of the form DD.MM.YYYY; '
                                  'amount ''12,345'' is not an amount of 0 or more with at most two decimals (decimal comma)'
                     WHEN 3 THEN 'column ''Barn'' (mapped to children) is not in the header'
                     ELSE reason END
          FROM before_retry WHERE fetch_id IN (SELECT id FROM bokvar.fetch WHERE feed = 'f1') AND NOT (line = 6 AND reason LIKE 'kind%')
          ORDER BY fetch_id, line$$,
        'retry: the others stay, each with its reason as the mended mapping reads it');
SELECT results_eq($$SELECT id, raw, reason FROM bokvar.quarantine WHERE line = 18$$,
                  $$SELECT id, 'A16;Uppsägning;"05.03.2026', reason FROM before_retry WHERE line = 18$$,
                  'retry: the unreadable row is left alone (same row, same reason)');
SELECT results_eq($$SELECT q.raw FROM bokvar.quarantine q WHERE q.feed = 'f1' AND q.line = 12$$,
                  $$VALUES (';A11;Okändvägen 1;;;Uppsala;Påminnelse;12.03.2026;;;100;1')$$,
                  'retry: a row quarantined again keeps its raw line');
SELECT results_eq($$SELECT id, line, reason FROM bokvar.quarantine WHERE feed = 'kf' ORDER BY id$$,
                  $$SELECT id, line, reason FROM before_retry WHERE fetch_id IN (SELECT id FROM bokvar.fetch WHERE feed = 'kf') ORDER BY id$$,
                  'retry of f1 leaves the quarantine of kf alone');
SELECT results_eq($$SELECT actor, action, subject, detail FROM bokvar.audit_log$$,
                  $$VALUES (session_user::text COLLATE "default", 'quarantine.retry', 'f1',
                            '{"retried": 14, "accepted": 1, "updated": 0, "duplicate": 0, "still_quarantined": 13}'::jsonb)$$,
                  'retry: one audit_log row with who retried what (the session''s login: the system, here)');
SELECT results_eq($$SELECT total_accepted, total_quarantined, total_rows_read FROM bokvar.feed WHERE name = 'f1'$$,
                  $$VALUES (17::bigint, 14::bigint, 34::bigint)$$,
                  'retry: the feed''s totals move the retried row from quarantined to accepted');
SELECT is((SELECT total_quarantined FROM bokvar.feed WHERE name = 'f1'),
          (SELECT count(*) FROM bokvar.quarantine WHERE feed = 'f1'),
          'retry: total_quarantined is what is in quarantine');
SELECT is((SELECT count(*)::integer FROM bokvar.signal WHERE feed = 'f1'), 17, 'retry: 17 signals of f1 = total accepted');
SELECT is(to_regclass('pg_temp.stage'), NULL, 'retry: no working tables are left behind');
SELECT throws_ok($$SELECT bokvar.stage_create(); SELECT bokvar.quarantine_retry_fetch('f1', 'landlord',
                        (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch4'), ARRAY[0::bigint])$$,
                 'XX000', 'retried 0 rows, but 0 were staged',
                 'a retry whose staged rows are not the rows it retries fails');

-- Retry of kf, now accepting Norwegian numbers: K3 passes, K5 stays.
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 1, 'K3', 'eviction_application', '2026-03-21', NULL, '15078549995', NULL, NULL, 'Uppsala', NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL);
SELECT pg_temp.bad(2, 1, 'deadline ''15.04.2026'' is not a date of the form YYYY-MM-DD', NULL, NULL,
                   (SELECT doc FROM bokvar.quarantine WHERE feed = 'kf' AND doc #>> '{case,id}' = 'K5'));
INSERT INTO result SELECT 'retry-kf', to_jsonb(x) FROM bokvar.quarantine_retry_fetch('kf', 'enforcement',
        (SELECT (r ->> 'fetch_id')::bigint FROM result WHERE step = 'fetch3'),
        ARRAY(SELECT id FROM bokvar.quarantine WHERE feed = 'kf' ORDER BY (doc #>> '{case,id}'))) x;
SELECT is((SELECT r FROM result WHERE step = 'retry-kf'),
          '{"rows_read": 2, "accepted": 1, "updated": 0, "duplicate": 0, "quarantined": 1}'::jsonb,
          'retry of kf: one accepted, one still quarantined');
SELECT is((SELECT household_id FROM bokvar.signal WHERE external_id = 'K3'),
          (SELECT household_id FROM bokvar.signal WHERE external_id = 'A17'),
          'retry: the enforcement case of a Norwegian tenant meets the landlord''s signal on one home');
SELECT results_eq($$SELECT feed, doc #>> '{case,id}', line, reason, raw = doc::text FROM bokvar.quarantine WHERE feed = 'kf'$$,
                  $$VALUES ('kf', 'K5', 1, 'deadline ''15.04.2026'' is not a date of the form YYYY-MM-DD', true)$$,
                  'retry: kf''s other row stays, its raw the document');

-- ---------------------------------------------------------------------
-- A person known only by identity number (K4's tenant, a home without
-- address) appears in one landlord delivery at an address, together with
-- a co-tenant and a row for the same address without identity number.
SELECT results_eq($$SELECT etag FROM bokvar.feed_claim('f2', 'landlord', true)$$, $$VALUES (NULL::text)$$, 'feed_claim of f2');
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 2, 'B1', 'arrears', '2026-04-01', NULL, '196509235674', 'Torget 1', '753 50', 'Uppsala', NULL, NULL,
                  100.00, 1, 'Hyresvärd AB', 'TORGET1|75350|', '75350');
SELECT pg_temp.ok(2, 3, 'B2', 'arrears', '2026-04-01', NULL, '197707077892', 'Torget 1', '753 50', 'Uppsala', NULL, NULL,
                  100.00, 1, 'Hyresvärd AB', 'TORGET1|75350|', '75350');
SELECT pg_temp.ok(3, 4, 'B3', 'arrears', '2026-04-02', NULL, NULL, 'TORGET 1', '75350', 'Uppsala', NULL, NULL,
                  100.00, 1, 'Hyresvärd AB', 'TORGET1|75350|', '75350');
INSERT INTO result SELECT 'f2', bokvar.ingest_fetch('f2', '{"source": "landlord"}', pg_temp.fetch_info(
        $${"url": "file:///feeds/f2.csv",
           "header": ["Personnummer", "Ärende", "Adress", "Postnr", "Lgh", "Ort", "Typ", "Datum", "Sista dag", "Barn", "Skuld", "Månader"]}$$));
SELECT bokvar.ingest_cleanup();
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'f2'),
          '{"rows_read": 3, "accepted": 3, "updated": 0, "duplicate": 0, "quarantined": 0, "not_modified": false}'::jsonb,
          'f2: three rows accepted');
SELECT is((SELECT household_id FROM bokvar.signal WHERE external_id = 'B2'),
          (SELECT household_id FROM bokvar.signal WHERE external_id = 'B3'),
          'f2: the co-tenant and the row without identity number at the same address share a home');
SELECT results_eq($$SELECT external_id COLLATE "default",
                          household_id = (SELECT household_id FROM bokvar.household_person WHERE person_id = '196509235674')
                   FROM bokvar.signal WHERE feed = 'f2' ORDER BY external_id$$,
                  $$VALUES ('B1', true), ('B2', true), ('B3', true)$$,
                  'f2: a known person, their co-tenant and their address meet on the known person''s home');
SELECT results_eq($$SELECT address_key COLLATE "default" FROM bokvar.household
                   WHERE id = (SELECT household_id FROM bokvar.household_person WHERE person_id = '196509235674')$$,
                  $$VALUES ('TORGET1|75350|')$$,
                  'f2: the known person''s home learns the address');

-- ---------------------------------------------------------------------
-- A new person reported at an address and, later the same delivery,
-- without one (feed f3).
SELECT results_eq($$SELECT etag FROM bokvar.feed_claim('f3', 'landlord', true)$$, $$VALUES (NULL::text)$$, 'feed_claim of f3');
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 2, 'C1', 'arrears', '2026-04-01', NULL, '199001013219', 'Kungsgatan 7', '753 60', 'Uppsala', NULL, NULL,
                  100.00, 1, 'Hyresvärd AB', 'KUNGSGATAN7|75360|', '75360');
SELECT pg_temp.ok(2, 3, 'C2', 'arrears', '2026-04-05', NULL, '199001013219', NULL, NULL, NULL, NULL, NULL,
                  200.00, 2, 'Hyresvärd AB', NULL, NULL);
INSERT INTO result SELECT 'f3', bokvar.ingest_fetch('f3', '{"source": "landlord"}', pg_temp.fetch_info(
        $${"url": "file:///feeds/f3.csv",
           "header": ["Personnummer", "Ärende", "Adress", "Postnr", "Lgh", "Ort", "Typ", "Datum", "Sista dag", "Barn", "Skuld", "Månader"]}$$));
SELECT bokvar.ingest_cleanup();
SELECT results_eq($$SELECT count(DISTINCT household_id)::integer FROM bokvar.signal WHERE feed = 'f3'$$, $$VALUES (1)$$,
                  'f3: both rows of the new person are one home');
SELECT results_eq($$SELECT h.address_key COLLATE "default", h.postal_code, h.city FROM bokvar.household h
                   WHERE h.id = (SELECT household_id FROM bokvar.household_person WHERE person_id = '199001013219')$$,
                  $$VALUES ('KUNGSGATAN7|75360|', '75360', 'Uppsala')$$,
                  'f3: a new home has the postal code and city of its address');

-- ---------------------------------------------------------------------
-- A delivery whose external ids C read strictly ascending (feed f4,
-- "ids_ascending" in the mapping, 017): no search for a record twice. A
-- home's latest row without postal code, children or landlord: the home
-- takes each from the latest row that has it.
SELECT results_eq($$SELECT etag FROM bokvar.feed_claim('f4', 'landlord', true)$$, $$VALUES (NULL::text)$$, 'feed_claim of f4');
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 2, 'D1', 'arrears', '2026-05-01', NULL, '196711245672', 'Ringvägen 9', '753 70', 'Uppsala', NULL, 3,
                  100.00, 1, 'Bostader AB', 'RINGVÄGEN9|75370|', '75370');
SELECT pg_temp.ok(2, 3, 'D2', 'arrears', '2026-05-02', NULL, '196711245672', 'Ringvägen 9', NULL, NULL, NULL, 2,
                  200.00, 2, 'Hem AB', 'RINGVÄGEN9|75370|', NULL);
SELECT pg_temp.ok(3, 4, 'D3', 'arrears', '2026-05-04', NULL, '196711245672', 'Ringvägen 9', NULL, NULL, NULL, NULL,
                  300.00, 3, NULL, 'RINGVÄGEN9|75370|', NULL);
SELECT pg_temp.ok(4, 5, 'D4', 'arrears', '2026-05-03', NULL, '194108296416', 'Ringvägen 11', '753 70', 'Uppsala', NULL, 1,
                  400.00, 1, 'Bostader AB', 'RINGVÄGEN11|75370|', '75370');
INSERT INTO result SELECT 'f4', bokvar.ingest_fetch('f4', '{"source": "landlord", "ids_ascending": true}',
        pg_temp.fetch_info($${"url": "file:///feeds/f4.csv", "header": ["Ärende"]}$$));
SELECT bokvar.ingest_cleanup();
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'f4'),
          '{"rows_read": 4, "accepted": 4, "updated": 0, "duplicate": 0, "quarantined": 0, "not_modified": false}'::jsonb,
          'f4: ids ascending, four rows accepted');
SELECT results_eq($$SELECT h.address_key COLLATE "default", h.postal_code, h.city, h.city_key, h.landlord, h.landlord_key,
                          h.children, h.children_at, h.first_signal_at, h.last_signal_at
                   FROM bokvar.household h WHERE h.address_key LIKE 'RINGVÄGEN%' ORDER BY h.address_key COLLATE "C"$$,
        $$VALUES ('RINGVÄGEN11|75370|', '75370', 'Uppsala', 'UPPSALA', 'Bostader AB', 'BOSTADERAB', 1, DATE '2026-05-03',
                  DATE '2026-05-03', DATE '2026-05-03'),
                 ('RINGVÄGEN9|75370|', '75370', 'Uppsala', 'UPPSALA', 'Hem AB', 'HEMAB', 2, DATE '2026-05-02',
                  DATE '2026-05-01', DATE '2026-05-04')$$,
        'f4: a home whose latest row lacks them takes postal code and city, landlord, children from the latest rows that have them');

-- The same record twice under "ids_ascending" (which C never sends for
-- it): the ingest fails, nothing is ingested twice.
SELECT bokvar.stage_create();
SELECT pg_temp.ok(1, 2, 'D5', 'arrears', '2026-05-05', NULL, '194108296416', 'Ringvägen 11', '753 70', 'Uppsala', NULL, 1,
                  500.00, 1, NULL, 'RINGVÄGEN11|75370|', '75370');
SELECT pg_temp.ok(2, 3, 'D5', 'arrears', '2026-05-06', NULL, '194108296416', 'Ringvägen 11', '753 70', 'Uppsala', NULL, 1,
                  600.00, 1, NULL, 'RINGVÄGEN11|75370|', '75370');
SELECT throws_ok($$SELECT bokvar.ingest_fetch('f4', '{"source": "landlord", "ids_ascending": true}',
                          pg_temp.fetch_info('{"url": "file:///feeds/f4.csv", "header": ["Ärende"]}'))$$,
                 '23505', NULL, 'f4: a record twice where C said the ids ascend fails the ingest');
SELECT is((SELECT count(*)::integer FROM bokvar.signal WHERE external_id = 'D5'), 0, 'f4: and ingests nothing of it');
SELECT results_eq($$SELECT r - 'fetch_id' FROM (SELECT bokvar.ingest_fetch('f4', '{"source": "landlord"}',
                          pg_temp.fetch_info('{"url": "file:///feeds/f4.csv", "header": ["Ärende"]}')) r) x$$,
                  $$VALUES ('{"rows_read": 2, "accepted": 1, "updated": 0, "duplicate": 1, "quarantined": 0, "not_modified": false}'::jsonb)$$,
                  'f4: without it, the last of the two counts');
SELECT bokvar.ingest_cleanup();

-- feed_claim without waiting on a feed nobody holds, and a feed whose
-- configured source changed.
SELECT results_eq($$SELECT etag, failures FROM bokvar.feed_claim('f1', 'landlord', false)$$, $$VALUES ('"v2"', 0)$$,
                  'feed_claim without waiting returns the feed when nobody else holds it');
SELECT results_eq($$SELECT etag FROM bokvar.feed_claim('f2', 'utility', true)$$, $$VALUES (NULL::text)$$, 'feed_claim with another source');
SELECT is((SELECT source::text FROM bokvar.feed WHERE name = 'f2'), 'utility', 'feed_claim records the feed''s new source');

SELECT * FROM finish();
ROLLBACK;
