-- The booking funnel per day and event: views → bookings started → confirmed → paid, with
-- holds that lapsed and payments that failed.
select
    cast(occurred_at as date) as funnel_date,
    case when entity = 'event' then entity_id else payload ->> 'event_id' end as event_id,
    count(*) filter (where event_type = 'event.viewed') as views,
    count(*) filter (where event_type = 'booking.created') as bookings_started,
    count(*) filter (where event_type = 'booking.confirmed') as bookings_confirmed,
    count(*) filter (where event_type = 'payment.succeeded') as payments_succeeded,
    count(*) filter (where event_type = 'payment.failed') as payments_failed,
    count(*) filter (where event_type = 'booking.expired') as holds_expired
from {{ ref('stg_outbox__events') }}
where event_type in (
    'event.viewed', 'booking.created', 'booking.confirmed', 'payment.succeeded',
    'payment.failed', 'booking.expired'
)
group by all
