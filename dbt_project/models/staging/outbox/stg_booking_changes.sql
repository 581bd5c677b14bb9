-- Seats a booking added to or took from its event's sales, when it happened: + on
-- confirmation, - when a confirmed booking is cancelled or refunded.
with changes as (
    select
        entity_id as booking_id,
        payload ->> 'event_id' as event_id,
        event_type,
        occurred_at,
        cast(payload ->> 'seats' as integer) as seats,
        payload ->> 'confirmed_at' is not null as was_confirmed
    from {{ ref('stg_outbox__events') }}
    where entity = 'booking'
      and event_type in ('booking.confirmed', 'booking.cancelled', 'booking.refunded')
)
select
    booking_id,
    event_id,
    event_type,
    occurred_at,
    case when event_type = 'booking.confirmed' then seats else -seats end as seats_delta
from changes
where event_type = 'booking.confirmed' or was_confirmed
