{{ config(materialized='incremental', unique_key='payment_id', incremental_strategy='delete+insert') }}
-- depends_on: {{ ref('stg_outbox__events') }}
-- One row per succeeded payment, with its fees, tax and what the organizer is paid out.
-- Incremental: each build rewrites only the payments whose outbox rows landed since the last.
with payments as (
    select * from {{ ref('stg_payments') }}
    where status = 'succeeded'
    {% if is_incremental() %}
      and payment_id in (
          select entity_id from {{ ref('stg_outbox__events') }}
          where entity = 'payment'
            and landed_at > (select coalesce(max(loaded_at), '-infinity'::timestamptz) from {{ this }})
      )
    {% endif %}
)
select
    payments.payment_id,
    payments.booking_id,
    payments.event_id,
    payments.organizer_id,
    events.category_id,
    payments.user_id,
    payments.provider,
    payments.currency,
    payments.amount_cents as gross_cents,
    coalesce(bookings.tax_cents, 0) as tax_cents,
    payments.provider_fee_cents,
    payments.platform_fee_cents,
    payments.succeeded_at,
    cast(payments.succeeded_at as date) as sale_date,
    cast(events.starts_at as date) as event_date,
    payments.version,
    now() as loaded_at
from payments
left join {{ ref('stg_bookings') }} as bookings using (booking_id)
left join {{ ref('stg_events') }} as events on events.event_id = payments.event_id
