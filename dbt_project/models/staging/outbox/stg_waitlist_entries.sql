with latest as ({{ latest_image('waitlist_entry') }})
select
    entity_id as entry_id,
    payload ->> 'event_id' as event_id,
    payload ->> 'ticket_type_id' as ticket_type_id,
    payload ->> 'user_id' as user_id,
    cast(payload ->> 'quantity' as integer) as quantity,
    payload ->> 'status' as status,
    cast(payload ->> 'created_at' as timestamptz) as created_at,
    cast(payload ->> 'offered_at' as timestamptz) as offered_at
from latest
