-- Seed data for local development: `psql -f db/seed.sql` after the migrations.
CREATE TABLE IF NOT EXISTS coupons (
  code text PRIMARY KEY,
  percent_off smallint NOT NULL CHECK (percent_off BETWEEN 1 AND 100),
  user_id integer REFERENCES users (id),
  expires_at timestamptz,
  KEY idx_coupons_user (user_id)
);

INSERT INTO coupons (code, percent_off, expires_at)
VALUES ('WELCOME10', 10, now() + interval '30 days')
ON CONFLICT (code) DO NOTHING;

UPDATE coupons SET expires_at = now() WHERE code = 'SPRING' AND;
