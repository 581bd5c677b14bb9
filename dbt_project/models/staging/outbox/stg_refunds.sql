with latest as ({{ latest_image('refund') }})
select
    entity_id as refund_id,
    payload ->> 'payment_id' as payment_id,
    payload ->> 'booking_id' as booking_id,
    payload ->> 'status' as status,
    payload ->> 'currency' as currency,
    cast(payload ->> 'amount_cents' as bigint) as amount_cents,
    payload ->> 'reason' as reason,
    cast(payload ->> 'created_at' as timestamptz) as created_at,
    cast(payload ->> 'succeeded_at' as timestamptz) as succeeded_at,
    version
from latest
