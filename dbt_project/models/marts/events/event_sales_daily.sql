-- The sales curve of each event: seats per day, the running total, and the capacity.
select
    sales.event_id,
    sales.sales_date,
    sales.seats,
    sales.seats_cumulative,
    performance.capacity,
    performance.starts_at
from {{ ref('int_event_sales_daily') }} as sales
join {{ ref('event_performance') }} as performance using (event_id)
