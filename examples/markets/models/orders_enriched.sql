-- Each order (its latest version) with its user's name, email, country and loyalty tier.
-- Orders whose user is unknown (never sent, or rejected) are kept, with NULLs.
-- A view: always current, nothing stored.
-- @materialized view
-- @test accepted_values(status, 'placed', 'paid', 'shipped', 'delivered', 'cancelled')
SELECT
  o.market,
  o.order_id,
  o.user_id,
  o.amount,
  o.currency,
  o.status,
  o.ordered_at,
  o.updated_at,
  u.name AS user_name,
  u.email AS user_email,
  u.country AS user_country,
  u.loyalty_tier AS user_loyalty_tier
FROM {{ ref('orders') }} AS o
LEFT JOIN {{ ref('users') }} AS u
  ON u.market = o.market AND u.user_id = o.user_id
