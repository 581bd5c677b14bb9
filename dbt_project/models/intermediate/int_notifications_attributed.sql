-- One row per notification sent, with whether its recipient confirmed a booking in the
-- window after the send: (first_sent_at, first_sent_at + N days], N the var
-- notification_conversion_days (7). `converted` counts a booking of any event,
-- `converted_same_event` only one of the event the notification is about. A confirmation is
-- the `booking.confirmed` row (its confirmed_at): a booking cancelled afterwards still
-- counts, the message did bring it. A message sent to no user (user_id null) never converts.
with sent as (
    select * from {{ ref('stg_notifications') }}
    where first_sent_at is not null
),
confirmations as (
    select
        entity_id as booking_id,
        payload ->> 'user_id' as user_id,
        payload ->> 'event_id' as event_id,
        coalesce(cast(payload ->> 'confirmed_at' as timestamptz), occurred_at) as confirmed_at
    from {{ ref('stg_outbox__events') }}
    where entity = 'booking' and event_type = 'booking.confirmed'
    qualify row_number() over (partition by entity_id order by occurred_at, outbox_id) = 1
),
in_window as (
    select
        sent.notification_id,
        count(*) as bookings_in_window,
        count(*) filter (where confirmations.event_id = sent.event_id)
            as same_event_bookings_in_window,
        min(confirmations.confirmed_at) as first_confirmed_at
    from sent
    join confirmations
        on confirmations.user_id = sent.user_id
        and confirmations.confirmed_at > sent.first_sent_at
        and confirmations.confirmed_at
            <= sent.first_sent_at + interval ({{ var('notification_conversion_days', 7) }}) day
    group by all
)
select
    sent.notification_id,
    sent.user_id,
    sent.trigger,
    sent.channel,
    sent.campaign,
    sent.variant,
    sent.event_id,
    sent.first_sent_at,
    coalesce(in_window.bookings_in_window, 0) as bookings_in_window,
    coalesce(in_window.same_event_bookings_in_window, 0) as same_event_bookings_in_window,
    in_window.first_confirmed_at,
    coalesce(in_window.bookings_in_window, 0) > 0 as converted,
    coalesce(in_window.same_event_bookings_in_window, 0) > 0 as converted_same_event
from sent
left join in_window using (notification_id)
