-- One row per event: capacity, seats sold, sell-through, revenue, cancellations, check-ins.
with capacity as (
    select event_id, sum(quantity) as capacity
    from {{ ref('stg_ticket_types') }}
    where not is_deleted
    group by all
),
bookings as (
    select
        event_id,
        sum(seats) filter (where status = 'confirmed') as seats_sold,
        count(*) filter (where status = 'confirmed') as bookings_confirmed,
        count(*) filter (where status in ('cancelled', 'refunded')) as bookings_cancelled,
        count(*) filter (where status = 'expired') as holds_expired,
        min(confirmed_at) as first_sale_at
    from {{ ref('stg_bookings') }}
    group by all
),
money as (
    select event_id, sum(net_cents) as net_revenue_cents, sum(gross_cents) as gross_revenue_cents
    from {{ ref('revenue_daily') }}
    group by all
),
check_ins as (
    select event_id, count(*) as checked_in from {{ ref('stg_check_ins') }} group by all
),
views as (
    select event_id, count(*) as views from {{ ref('stg_event_views') }} group by all
)
select
    events.event_id,
    events.title,
    events.organizer_id,
    events.category_id,
    events.currency,
    events.status,
    events.starts_at,
    coalesce(capacity.capacity, 0) as capacity,
    coalesce(bookings.seats_sold, 0) as seats_sold,
    case when coalesce(capacity.capacity, 0) > 0
        then round(coalesce(bookings.seats_sold, 0) / capacity.capacity, 4) end as sell_through,
    coalesce(bookings.bookings_confirmed, 0) as bookings_confirmed,
    coalesce(bookings.bookings_cancelled, 0) as bookings_cancelled,
    coalesce(bookings.holds_expired, 0) as holds_expired,
    coalesce(money.gross_revenue_cents, 0) as gross_revenue_cents,
    coalesce(money.net_revenue_cents, 0) as net_revenue_cents,
    coalesce(views.views, 0) as views,
    coalesce(check_ins.checked_in, 0) as checked_in,
    case when coalesce(bookings.seats_sold, 0) > 0
        then round(coalesce(check_ins.checked_in, 0) / bookings.seats_sold, 4) end
        as check_in_rate,
    bookings.first_sale_at
from {{ ref('stg_events') }} as events
left join capacity using (event_id)
left join bookings using (event_id)
left join money using (event_id)
left join check_ins using (event_id)
left join views using (event_id)
where not events.is_deleted
