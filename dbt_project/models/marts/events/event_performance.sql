-- One row per event: capacity, seats sold, sell-through, revenue, sales velocity and pace
-- against events of its category, days to half sold, a projected sell-out date, waitlist,
-- cancellations, check-ins and no-shows.
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
),
waitlist as (
    select
        event_id,
        count(*) filter (where status = 'waiting') as waitlist_waiting,
        count(*) filter (where offered_at is not null) as waitlist_offered,
        count(*) filter (where status = 'converted') as waitlist_converted
    from {{ ref('stg_waitlist_entries') }}
    group by all
),
base as (
    select
        events.event_id,
        events.title,
        events.organizer_id,
        events.category_id,
        events.city,
        events.currency,
        events.status,
        events.starts_at,
        events.ends_at,
        coalesce(events.published_at, events.created_at) as on_sale_at,
        coalesce(capacity.capacity, 0) as capacity,
        coalesce(bookings.seats_sold, 0) as seats_sold,
        coalesce(bookings.bookings_confirmed, 0) as bookings_confirmed,
        coalesce(bookings.bookings_cancelled, 0) as bookings_cancelled,
        coalesce(bookings.holds_expired, 0) as holds_expired,
        coalesce(money.gross_revenue_cents, 0) as gross_revenue_cents,
        coalesce(money.net_revenue_cents, 0) as net_revenue_cents,
        coalesce(views.views, 0) as views,
        coalesce(check_ins.checked_in, 0) as checked_in,
        coalesce(waitlist.waitlist_waiting, 0) as waitlist_waiting,
        coalesce(waitlist.waitlist_offered, 0) as waitlist_offered,
        coalesce(waitlist.waitlist_converted, 0) as waitlist_converted,
        bookings.first_sale_at
    from {{ ref('stg_events') }} as events
    left join capacity using (event_id)
    left join bookings using (event_id)
    left join money using (event_id)
    left join check_ins using (event_id)
    left join views using (event_id)
    left join waitlist using (event_id)
    where not events.is_deleted
),
half_sold as (
    select sales.event_id, min(sales.sales_date) as half_sold_on
    from {{ ref('int_event_sales_daily') }} as sales
    join base using (event_id)
    where base.capacity > 0 and sales.seats_cumulative * 2 >= base.capacity
    group by all
),
measured as (
    select
        base.*,
        case when capacity > 0 then round(seats_sold / capacity, 4) end as sell_through,
        -- seats per day on sale, until now or the start, whichever came first
        seats_sold / greatest(
            1, date_diff('day', on_sale_at, least(now(), coalesce(starts_at, now())))
        ) as seats_per_day,
        date_diff('day', cast(on_sale_at as date), half_sold.half_sold_on) as days_to_half_sold
    from base
    left join half_sold using (event_id)
)
select
    measured.*,
    round(
        sell_through / nullif(avg(sell_through) over (partition by category_id), 0), 3
    ) as pace_vs_category,
    case
        when seats_sold >= capacity and capacity > 0 then cast(now() as date)
        when seats_per_day > 0 and starts_at > now()
            and now() + to_days(cast(ceil((capacity - seats_sold) / seats_per_day) as integer))
                < starts_at
            then cast(
                now() + to_days(cast(ceil((capacity - seats_sold) / seats_per_day) as integer))
                as date
            )
    end as projected_sellout_date,
    case when waitlist_offered > 0
        then round(waitlist_converted / waitlist_offered, 4) end as waitlist_conversion,
    case when seats_sold > 0 then round(checked_in / seats_sold, 4) end as check_in_rate,
    case when seats_sold > 0 and ends_at < now()
        then round(1 - checked_in / seats_sold, 4) end as no_show_rate
from measured
