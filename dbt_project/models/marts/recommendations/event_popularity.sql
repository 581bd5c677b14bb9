-- One row per event (deleted ones left out): confirmed bookings and seats in the last 30 days
-- and all time, views in the last 30 days and all time, and the popularity search ranks by:
--   popularity = 3 * bookings_30d + views_30d / 10 + bookings_all_time / 10
-- "Now" is the latest occurred_at in the outbox, not current_timestamp: the same data always
-- gives the same scores (a rebuild, a backfill, a unit test), and a warehouse whose ingestion
-- pauses is scored as of its own newest event instead of decaying towards zero.
with outbox as (
    select occurred_at from {{ ref('stg_outbox__events') }}
),
events as (
    select * from {{ ref('stg_events') }}
    where not is_deleted
),
confirmed as (
    select * from {{ ref('stg_bookings') }}
    where status = 'confirmed'
),
views as (
    select * from {{ ref('stg_event_views') }}
),
clock as (
    select max(occurred_at) as as_of, max(occurred_at) - interval 30 day as window_start
    from outbox
),
bookings as (
    select
        confirmed.event_id,
        count(*) filter (where confirmed.confirmed_at > clock.window_start) as bookings_30d,
        cast(coalesce(
            sum(confirmed.seats) filter (where confirmed.confirmed_at > clock.window_start), 0
        ) as bigint) as seats_30d,
        count(*) as bookings_all_time,
        cast(sum(confirmed.seats) as bigint) as seats_all_time
    from confirmed
    cross join clock
    group by confirmed.event_id
),
viewed as (
    select
        views.event_id,
        count(*) filter (where views.viewed_at > clock.window_start) as views_30d,
        count(*) as views_all_time
    from views
    cross join clock
    group by views.event_id
),
counted as (
    select
        events.event_id,
        events.category_id,
        coalesce(bookings.bookings_30d, 0) as bookings_30d,
        coalesce(bookings.seats_30d, 0) as seats_30d,
        coalesce(bookings.bookings_all_time, 0) as bookings_all_time,
        coalesce(bookings.seats_all_time, 0) as seats_all_time,
        coalesce(viewed.views_30d, 0) as views_30d,
        coalesce(viewed.views_all_time, 0) as views_all_time,
        clock.as_of
    from events
    cross join clock
    left join bookings using (event_id)
    left join viewed using (event_id)
)
select
    event_id,
    category_id,
    bookings_30d,
    seats_30d,
    bookings_all_time,
    seats_all_time,
    views_30d,
    views_all_time,
    -- multiples of 0.1: rounding only drops floating-point noise (204.60000000000002)
    round(cast(3 * bookings_30d + views_30d / 10 + bookings_all_time / 10 as double), 4)
        as popularity,
    as_of
from counted
