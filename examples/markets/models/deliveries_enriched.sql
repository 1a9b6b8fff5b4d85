-- Each delivery with its order and the order's user. Deliveries of unknown orders are kept.
-- A table: rebuilt (atomically) after every run that changed deliveries, orders or users.
-- @materialized table
-- @unique_key market, delivery_id
-- @test relationships((market, order_id), ref('orders'), (market, order_id))
SELECT
  d.market,
  d.delivery_id,
  d.order_id,
  d.carrier,
  d.shipped_at,
  d.delivered_at,
  o.user_id,
  o.amount AS order_amount,
  o.status AS order_status,
  o.ordered_at,
  o.user_name,
  o.user_email,
  o.user_country,
  o.user_loyalty_tier
FROM {{ ref('deliveries') }} AS d
LEFT JOIN {{ ref('orders_enriched') }} AS o
  ON o.market = d.market AND o.order_id = d.order_id
