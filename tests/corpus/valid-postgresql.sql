-- Valid PostgreSQL 16-18 DDL and DML: `sql-syntax-error` and `mysql-syntax-in-postgres`
-- must report nothing here (tests/rules.rs, valid_postgresql_gets_no_finding).
BEGIN;
SET LOCAL lock_timeout = '3s';
SET search_path TO app, public;
SET TIME ZONE 'UTC';
SET NAMES 'UTF8';
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
CREATE SCHEMA IF NOT EXISTS app AUTHORIZATION app_owner;
CREATE TYPE app.order_state AS ENUM ('pending', 'paid', 'shipped', 'refunded');
CREATE DOMAIN app.email AS text CHECK (VALUE ~* '^[^@\s]+@[^@\s]+$');
CREATE SEQUENCE app.invoice_numbers START WITH 1000 INCREMENT BY 1 NO CYCLE;

CREATE TABLE app.accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email app.email NOT NULL UNIQUE,
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
  key text,
  "index" integer,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz,
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', display_name)) STORED
);

CREATE TABLE app.orders (
  id bigint GENERATED ALWAYS AS IDENTITY,
  account_id uuid NOT NULL REFERENCES app.accounts (id) ON DELETE CASCADE ON UPDATE CASCADE,
  state app.order_state NOT NULL DEFAULT 'pending',
  total numeric(12, 2) NOT NULL CHECK (total >= 0),
  placed_at timestamptz NOT NULL,
  tags text[] NOT NULL DEFAULT ARRAY[]::text[],
  period tstzrange,
  PRIMARY KEY (id, placed_at),
  EXCLUDE USING gist (account_id WITH =, period WITH &&) DEFERRABLE INITIALLY DEFERRED
) PARTITION BY RANGE (placed_at);

CREATE TABLE app.orders_2026 PARTITION OF app.orders
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE app.orders_default PARTITION OF app.orders DEFAULT;

CREATE TABLE app.events (
  id bigserial PRIMARY KEY,
  payload jsonb,
  embedding vector(1536)
) WITH (fillfactor = 90);

CREATE UNLOGGED TABLE app.cache_entries (key text PRIMARY KEY, value bytea, expires_at timestamptz);
CREATE TEMPORARY TABLE scratch (LIKE app.events INCLUDING ALL) ON COMMIT DROP;

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_account ON app.orders (account_id);
CREATE UNIQUE INDEX ix_accounts_email_lower ON app.accounts (lower(email));
CREATE INDEX ix_events_payload ON app.events USING gin (payload jsonb_path_ops);
CREATE INDEX ix_events_embedding ON app.events USING hnsw (embedding public.vector_cosine_ops)
  WITH (m = 16, ef_construction = 64);
CREATE INDEX ix_accounts_search ON app.accounts USING gin (search);
CREATE INDEX ix_orders_open ON app.orders (placed_at DESC NULLS LAST) INCLUDE (total)
  WHERE state <> 'refunded';
DROP INDEX CONCURRENTLY IF EXISTS ix_old_orders;

ALTER TABLE app.orders ADD COLUMN note text, ADD COLUMN shipped_at timestamptz;
ALTER TABLE app.orders ALTER COLUMN total TYPE numeric(14, 2) USING total::numeric(14, 2);
ALTER TABLE app.accounts ADD CONSTRAINT accounts_name_not_blank CHECK (display_name <> '') NOT VALID;
ALTER TABLE app.accounts VALIDATE CONSTRAINT accounts_name_not_blank;
ALTER TABLE app.events ALTER COLUMN id SET STATISTICS 500;
ALTER TABLE IF EXISTS app.legacy RENAME TO legacy_archive;
ALTER TABLE app.accounts RENAME COLUMN display_name TO full_name;

CREATE OR REPLACE FUNCTION app.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

CREATE TRIGGER accounts_touch BEFORE UPDATE ON app.accounts
  FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE FUNCTION app.order_count(account uuid) RETURNS bigint
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*) FROM app.orders WHERE account_id = account;
END;

CREATE PROCEDURE app.archive_before(cutoff timestamptz)
LANGUAGE plpgsql AS $proc$
BEGIN
  DELETE FROM app.events WHERE (payload ->> 'at')::timestamptz < cutoff;
  COMMIT;
END
$proc$;

DO $$
DECLARE
  missing boolean;
BEGIN
  SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting') INTO missing;
  IF missing THEN
    CREATE ROLE reporting NOLOGIN;
  END IF;
END
$$;

CREATE VIEW app.paid_orders AS
  SELECT o.id, a.email, o.total FROM app.orders o JOIN app.accounts a ON a.id = o.account_id
  WHERE o.state = 'paid';
CREATE MATERIALIZED VIEW app.daily_totals AS
  SELECT date_trunc('day', placed_at) AS day, sum(total) AS total FROM app.orders GROUP BY 1
  WITH NO DATA;
REFRESH MATERIALIZED VIEW CONCURRENTLY app.daily_totals;

INSERT INTO app.accounts (email, display_name) VALUES ('a@example.com', 'A')
  ON CONFLICT (email) DO UPDATE SET display_name = excluded.display_name
  RETURNING id;
INSERT INTO app.cache_entries (key, value) VALUES ('k', '\x00ff') ON CONFLICT DO NOTHING;
UPDATE app.orders SET state = 'paid' FROM app.accounts a
  WHERE a.id = app.orders.account_id AND a.email LIKE '%@example.com';
DELETE FROM app.cache_entries WHERE expires_at < now() RETURNING key;
MERGE INTO app.accounts AS t USING scratch AS s ON t.id = (s.payload ->> 'id')::uuid
  WHEN MATCHED THEN UPDATE SET updated_at = now()
  WHEN NOT MATCHED THEN DO NOTHING;

WITH RECURSIVE chain(id, depth) AS (
  SELECT id, 0 FROM app.accounts WHERE email = 'root@example.com'
  UNION ALL
  SELECT a.id, c.depth + 1 FROM app.accounts a JOIN chain c ON false
)
SELECT id, depth, row_number() OVER (PARTITION BY depth ORDER BY id) FROM chain;

SELECT payload -> 'items' ->> 0, payload @> '{"kind": "refund"}', payload ? 'kind',
  embedding <=> '[1,2,3]', tags && ARRAY['vip'], period @> now()
FROM app.events, app.orders
LIMIT 10 OFFSET 5;
SELECT key, "index" FROM app.accounts FOR UPDATE SKIP LOCKED;
SELECT $1::int + $2;
SELECT E'escaped \' quote', U&'\0041', B'1010', X'1F', 1.5e3, interval '2 hours';

COMMENT ON TABLE app.orders IS 'one row per order; partitioned by year';
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA app TO reporting;
REVOKE ALL ON app.cache_entries FROM PUBLIC;
CREATE POLICY own_orders ON app.orders USING (account_id = current_setting('app.account')::uuid);
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE PUBLICATION orders_pub FOR TABLE app.orders;
LOCK TABLE app.orders IN SHARE ROW EXCLUSIVE MODE;
TRUNCATE scratch;
ANALYZE app.orders;
VACUUM (VERBOSE, ANALYZE) app.events;
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM app.paid_orders;
NOTIFY orders_changed, 'paid';
LISTEN orders_changed;
PREPARE by_email(text) AS SELECT * FROM app.accounts WHERE email = $1;
EXECUTE by_email('a@example.com');
COPY app.accounts (email, display_name) TO STDOUT WITH (FORMAT csv, HEADER);
COMMIT;
