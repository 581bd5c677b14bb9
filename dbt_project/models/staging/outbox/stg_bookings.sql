-- Bookings as they are now (`booking.reminder_due` rows are reminders, not row images).
with latest as ({{ latest_image('booking') }})
select
    entity_id as booking_id,
    payload ->> 'user_id' as user_id,
    payload ->> 'event_id' as event_id,
    payload ->> 'status' as status,
    payload ->> 'currency' as currency,
    cast(payload ->> 'total_cents' as bigint) as total_cents,
    cast(coalesce(payload ->> 'tax_cents', '0') as bigint) as tax_cents,
    cast(payload ->> 'seats' as integer) as seats,
    cast(payload ->> 'created_at' as timestamptz) as created_at,
    cast(payload ->> 'confirmed_at' as timestamptz) as confirmed_at,
    cast(payload ->> 'cancelled_at' as timestamptz) as cancelled_at,
    payload,
    version
from latest
