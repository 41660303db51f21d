-- SPDX-License-Identifier: GPL-3.0-or-later
-- Every row accounted for (sql/005_accounting.sql): every canonical field
-- has a maximum length, checked before anything reaches an index, so that
-- no single row can fail a fetch; and an ingest whose counts do not add up
-- fails. Driven as bokvard drives it: claim, stage, bokvar.ingest_fetch().
BEGIN;
SELECT plan(16);

CREATE TEMP TABLE result (step text PRIMARY KEY, r jsonb);
CREATE TEMP TABLE mapping (name text PRIMARY KEY, m jsonb);
INSERT INTO mapping VALUES
('csv', $${"source": "landlord", "format": "csv", "delimiter": ";",
          "fields": {"external_id": {"column": "id"}, "kind": {"column": "kind"}, "occurred_at": {"column": "date"},
                     "person_id": {"column": "pnr"}, "name": {"column": "name"}, "address": {"column": "street"},
                     "postal_code": {"column": "zip"}, "city": {"column": "city"}, "apartment": {"column": "apt"},
                     "children": {"column": "children"}, "amount": {"column": "amount"},
                     "months_in_arrears": {"column": "months"}, "deadline": {"column": "deadline"},
                     "landlord": {"column": "landlord"}}}$$),
('json', $${"source": "enforcement", "format": "json",
           "fields": {"external_id": {"path": ["id"]}, "kind": {"value": "eviction_application"},
                      "occurred_at": {"path": ["date"]}, "address": {"path": ["home", "street"]},
                      "postal_code": {"path": ["home", "zip"]}}}$$);
CREATE FUNCTION pg_temp.fetch_info(extra jsonb) RETURNS jsonb
LANGUAGE sql AS $$
        SELECT jsonb_build_object('url', 'file:///feeds/f.csv', 'status', 0, 'bytes', 1,
                                  'started_at', extract(epoch FROM now()), 'interval', 900) || extra
$$;
-- Ingests pg_temp.stage as a CSV fetch of feed f; its result is kept as step.
CREATE TABLE pg_temp.header AS
SELECT '["id", "kind", "date", "pnr", "name", "street", "zip", "city", "apt", "children", "amount", "months",
         "deadline", "landlord"]'::jsonb AS names;
CREATE FUNCTION pg_temp.ingest_csv(step text) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO result SELECT step, bokvar.ingest_fetch('f', (SELECT m FROM mapping WHERE name = 'csv'),
                                                            pg_temp.fetch_info(jsonb_build_object('header',
                                                                (SELECT names FROM pg_temp.header))));
        SELECT bokvar.ingest_cleanup();
$$;
-- Text that does not compress: a B-tree entry of repeated letters would fit.
CREATE FUNCTION pg_temp.noise(n integer) RETURNS text
LANGUAGE sql AS $$
        SELECT left(string_agg(md5(i::text), ''), n) FROM generate_series(1, n / 32 + 1) i
$$;

-- Every canonical field has its limit.
SELECT is((SELECT array_agg(field ORDER BY field) FROM bokvar.field_limits()),
          (SELECT array_agg(f ORDER BY f) FROM unnest(bokvar.canonical_fields()) f),
          'every canonical field has a maximum length');

-- ---------------------------------------------------------------------
-- Case 2 of issue 13: ten good rows and one with an address of 3,000
-- characters. The household index used to refuse that row and with it
-- the whole fetch, at every poll.
SELECT lives_ok($$SELECT bokvar.feed_claim('f', 'landlord', true)$$, 'claim');
CREATE TEMP TABLE stage (seq integer, line integer, fields text[], doc jsonb, raw text, error text) ON COMMIT DROP;
INSERT INTO stage (seq, line, fields)
SELECT i, i + 1, ARRAY['R' || i, 'arrears', '2026-11-01', NULL, NULL,
                       CASE WHEN i = 11 THEN pg_temp.noise(3000) ELSE 'Gatan ' || i END, '602 23', NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL]
FROM generate_series(1, 11) i;
SELECT pg_temp.ingest_csv('long');
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'long'),
          '{"rows_read": 11, "accepted": 10, "updated": 0, "duplicate": 0, "quarantined": 1, "not_modified": false}',
          'a 3,000-character address: that row quarantined, the ten others ingested');
SELECT results_eq($$SELECT line, reason, fields[6] = pg_temp.noise(3000) FROM bokvar.quarantine$$,
                  $$VALUES (12, 'address has 3000 characters, more than the 200 allowed', true)$$,
                  'quarantined with the field, its length and the limit, and its fields kept for a retry');

-- Every field over its limit at once, and every field at its limit.
CREATE TEMP TABLE stage (seq integer, line integer, fields text[], doc jsonb, raw text, error text) ON COMMIT DROP;
INSERT INTO stage (seq, line, fields) VALUES
(1, 2, ARRAY['X' || pg_temp.noise(200), pg_temp.noise(101), pg_temp.noise(41), pg_temp.noise(41), pg_temp.noise(201),
             pg_temp.noise(201), pg_temp.noise(21), pg_temp.noise(101), pg_temp.noise(21), pg_temp.noise(21),
             pg_temp.noise(41), pg_temp.noise(21), pg_temp.noise(41), pg_temp.noise(201)]),
(2, 3, ARRAY['Y' || pg_temp.noise(199), 'arrears', '2026-11-01', NULL, '  ' || pg_temp.noise(200) || '  ',
             pg_temp.noise(200), '602 23', pg_temp.noise(100), NULL, NULL, NULL, NULL, NULL, pg_temp.noise(200)]);
SELECT pg_temp.ingest_csv('every');
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'every'),
          '{"rows_read": 2, "accepted": 1, "updated": 0, "duplicate": 0, "quarantined": 1, "not_modified": false}',
          'a row at every limit is ingested; spaces around a value do not count');
SELECT is((SELECT reason FROM bokvar.quarantine WHERE line = 2),
          'external_id has 201 characters, more than the 200 allowed; kind has 101 characters, more than the 100 '
          'allowed; occurred_at has 41 characters, more than the 40 allowed; deadline has 41 characters, more than '
          'the 40 allowed; person_id has 41 characters, more than the 40 allowed; name has 201 characters, more '
          'than the 200 allowed; address has 201 characters, more than the 200 allowed; postal_code has 21 '
          'characters, more than the 20 allowed; city has 101 characters, more than the 100 allowed; apartment '
          'has 21 characters, more than the 20 allowed; children has 21 characters, more than the 20 allowed; '
          'amount has 41 characters, more than the 40 allowed; months_in_arrears has 21 characters, more than '
          'the 20 allowed; landlord has 201 characters, more than the 200 allowed',
          'every field over its limit is named, in the canonical order');

-- A JSON record, by path; characters, not bytes, count.
SELECT lives_ok($$SELECT bokvar.feed_claim('j', 'enforcement', true)$$, 'claim j');
CREATE TEMP TABLE stage (seq integer, line integer, fields text[], doc jsonb, raw text, error text) ON COMMIT DROP;
INSERT INTO stage (seq, line, doc) VALUES
(1, 1, jsonb_build_object('id', 'J1', 'date', '2026-11-01', 'home', jsonb_build_object('street', repeat('Å', 200), 'zip', '603 10'))),
(2, 1, jsonb_build_object('id', 'J2', 'date', '2026-11-01', 'home', jsonb_build_object('street', pg_temp.noise(250), 'zip', '603 10')));
INSERT INTO result SELECT 'json', bokvar.ingest_fetch('j', (SELECT m FROM mapping WHERE name = 'json'), pg_temp.fetch_info('{}'));
SELECT bokvar.ingest_cleanup();
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'json'),
          '{"rows_read": 2, "accepted": 1, "updated": 0, "duplicate": 0, "quarantined": 1, "not_modified": false}',
          'JSON: 200 letters of two bytes each are 200 characters; 250 are too many');
SELECT is((SELECT reason FROM bokvar.quarantine WHERE feed = 'j'),
          'address has 250 characters, more than the 200 allowed', 'JSON: quarantined by the path''s field');

-- ---------------------------------------------------------------------
-- Quarantine retry checks the lengths too: under the same mapping the
-- rows stay; under one that no longer reads the street, case 2's is
-- ingested.
INSERT INTO result SELECT 'retry-same', bokvar.quarantine_retry('f', jsonb_build_object('f', (SELECT m FROM mapping WHERE name = 'csv')), 'test');
SELECT is((SELECT r FROM result WHERE step = 'retry-same'),
          '{"f": {"retried": 2, "accepted": 0, "updated": 0, "duplicate": 0, "still_quarantined": 2}}',
          'retry under the same mapping: still too long');
INSERT INTO result SELECT 'retry-fixed', bokvar.quarantine_retry('f', jsonb_build_object('f',
        (SELECT jsonb_set(m, '{fields,address}', '{"value": "Okänd gata 1"}') FROM mapping WHERE name = 'csv')), 'test');
SELECT is((SELECT r -> 'f' ->> 'accepted' FROM result WHERE step = 'retry-fixed'), '1',
          'retry under a mapping without the street: the row of case 2 is ingested');
SELECT is((SELECT count(*)::integer FROM bokvar.signal WHERE feed = 'f' AND external_id = 'R11'), 1,
          'R11 is a signal now');

-- ---------------------------------------------------------------------
-- The counts must add up. A fault that loses a row without an error (a
-- trigger that skips it) makes the ingest fail, and nothing of it stays.
CREATE FUNCTION pg_temp.lose_z2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN CASE WHEN NEW.external_id = 'Z2' THEN NULL ELSE NEW END; END $$;
CREATE TRIGGER lose_z2 BEFORE INSERT ON bokvar.signal FOR EACH ROW EXECUTE FUNCTION pg_temp.lose_z2();
CREATE TEMP TABLE stage (seq integer, line integer, fields text[], doc jsonb, raw text, error text) ON COMMIT DROP;
INSERT INTO stage (seq, line, fields)
SELECT i, i + 1, ARRAY['Z' || i, 'arrears', '2026-11-01', NULL, NULL, 'Vägen ' || i, '602 23', NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL]
FROM generate_series(1, 3) i;
SELECT throws_ok($$SELECT pg_temp.ingest_csv('lost')$$,
        'XX000', 'the counts do not add up: 3 rows read, 2 accepted, 0 updated, 1 duplicate, 0 quarantined, where '
                 'the rows show 3 read, 3 new, 0 changed, 0 duplicate, 0 quarantined',
        'a row lost without an error fails the ingest, saying so');
DROP TRIGGER lose_z2 ON bokvar.signal;
SELECT pg_temp.ingest_csv('counted');
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'counted'),
          '{"rows_read": 3, "accepted": 3, "updated": 0, "duplicate": 0, "quarantined": 0, "not_modified": false}',
          'without the fault the same rows add up');
-- Every fetch recorded adds up, and so do the feeds' totals.
SELECT is((SELECT count(*)::integer FROM bokvar.fetch WHERE rows_read <> accepted + updated + duplicate + quarantined), 0,
          'every fetch: rows read = accepted + updated + duplicate + quarantined');
SELECT is((SELECT count(*)::integer FROM bokvar.feed
           WHERE total_rows_read <> total_accepted + total_updated + total_duplicate + total_quarantined), 0,
          'every feed''s totals add up, after the retries too');

SELECT * FROM finish();
ROLLBACK;
