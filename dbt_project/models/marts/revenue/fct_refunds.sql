-- One row per refund paid out, with the payment's event, organizer and category.
select
    refunds.refund_id,
    refunds.payment_id,
    refunds.booking_id,
    payments.event_id,
    payments.organizer_id,
    payments.category_id,
    refunds.currency,
    refunds.amount_cents,
    refunds.reason,
    refunds.succeeded_at as refunded_at,
    cast(refunds.succeeded_at as date) as refund_date,
    payments.event_date,
    refunds.version
from {{ ref('stg_refunds') }} as refunds
join {{ ref('fct_payments') }} as payments using (payment_id)
where refunds.status = 'succeeded'
