-- Per market and user: how many orders, their exact total (each order counted once, at its
-- latest version), the first and last order date, and how many orders are delivered.
-- Orphan orders (user unknown) count under their user_id, with a NULL name.
-- Incremental: after a run only the users whose orders (or user row) changed are recomputed.
-- ROUND(SUM(amount), 2) is exact on SQLite, MySQL and PostgreSQL alike (docs/loading.md;
-- test/e2e/demo-dialects.test.ts compares the three).
-- @materialized incremental
-- @unique_key market, user_id
-- Data tests, run by `tributary test` and `run --test` (npm start runs them):
-- @test unique(market, user_id)
-- @test not_null(order_count, total_amount)
SELECT
  market,
  user_id,
  MAX(user_name) AS user_name,
  COUNT(*) AS order_count,
  ROUND(SUM(amount), 2) AS total_amount,
  MIN(DATE(ordered_at)) AS first_order_date,
  MAX(DATE(ordered_at)) AS last_order_date,
  COUNT(CASE WHEN status = 'delivered' THEN 1 END) AS delivered_count
FROM {{ ref('orders_enriched') }}
GROUP BY market, user_id
