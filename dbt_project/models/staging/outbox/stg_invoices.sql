-- Invoices and credit notes as issued (they never change after).
with latest as ({{ latest_image('invoice') }})
select
    entity_id as invoice_id,
    payload ->> 'number' as invoice_number,
    payload ->> 'kind' as kind,
    cast(payload ->> 'sequence' as integer) as sequence,
    payload ->> 'organizer_id' as organizer_id,
    payload ->> 'booking_id' as booking_id,
    payload ->> 'payment_id' as payment_id,
    payload ->> 'refund_id' as refund_id,
    payload ->> 'currency' as currency,
    cast(payload ->> 'net_cents' as bigint) as net_cents,
    cast(payload ->> 'tax_cents' as bigint) as tax_cents,
    cast(payload ->> 'gross_cents' as bigint) as gross_cents,
    payload -> 'seller' ->> 'name' as seller_name,
    payload -> 'buyer' ->> 'name' as buyer_name,
    payload -> 'buyer' ->> 'email' as buyer_email,
    payload -> 'lines' as lines,
    cast(payload ->> 'issued_at' as timestamptz) as issued_at
from latest
