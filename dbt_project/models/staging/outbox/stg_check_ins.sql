select
    entity_id as ticket_id,
    payload ->> 'event_id' as event_id,
    payload ->> 'booking_id' as booking_id,
    cast(payload ->> 'checked_in_at' as timestamptz) as checked_in_at
from ({{ latest_image('ticket') }}) as tickets
where payload ->> 'checked_in_at' is not null
