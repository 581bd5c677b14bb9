-- Seats sold per event and day and the running total (cancellations of confirmed bookings
-- count against the day they happened).
with daily as (
    select event_id, cast(occurred_at as date) as sales_date, sum(seats_delta) as seats
    from {{ ref('stg_booking_changes') }}
    group by all
)
select
    event_id,
    sales_date,
    seats,
    sum(seats) over (
        partition by event_id order by sales_date
        rows between unbounded preceding and current row
    ) as seats_cumulative
from daily
