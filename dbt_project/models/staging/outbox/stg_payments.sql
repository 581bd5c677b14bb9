with latest as ({{ latest_image('payment') }})
select
    entity_id as payment_id,
    payload ->> 'booking_id' as booking_id,
    payload ->> 'user_id' as user_id,
    payload ->> 'event_id' as event_id,
    payload ->> 'organizer_id' as organizer_id,
    payload ->> 'provider' as provider,
    payload ->> 'status' as status,
    payload ->> 'currency' as currency,
    cast(payload ->> 'amount_cents' as bigint) as amount_cents,
    cast(payload ->> 'provider_fee_cents' as bigint) as provider_fee_cents,
    cast(payload ->> 'platform_fee_cents' as bigint) as platform_fee_cents,
    payload ->> 'failure_code' as failure_code,
    cast(payload ->> 'created_at' as timestamptz) as created_at,
    cast(payload ->> 'succeeded_at' as timestamptz) as succeeded_at,
    version
from latest
