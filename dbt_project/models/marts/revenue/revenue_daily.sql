-- Money per day (the sale or refund date), event, organizer, category and currency, in minor
-- units: gross, tax, fees, refunds, net, the platform's take and the organizer's payout.
-- Tessera has no discounts yet: the column is there, always 0, so reports need not change.
with sales as (
    select
        sale_date as revenue_date, event_id, organizer_id, category_id, currency, event_date,
        gross_cents, tax_cents, provider_fee_cents, platform_fee_cents,
        0::bigint as refunds_cents, 1 as payments, 0 as refunds
    from {{ ref('fct_payments') }}
    union all
    select
        refund_date, event_id, organizer_id, category_id, currency, event_date,
        0, 0, 0, 0, amount_cents, 0, 1
    from {{ ref('fct_refunds') }}
)
select
    revenue_date,
    event_id,
    organizer_id,
    category_id,
    currency,
    any_value(event_date) as event_date,
    sum(payments) as payments,
    sum(refunds) as refunds,
    sum(gross_cents) as gross_cents,
    0::bigint as discounts_cents,
    sum(tax_cents) as tax_cents,
    sum(provider_fee_cents) as provider_fee_cents,
    sum(platform_fee_cents) as platform_fee_cents,
    sum(refunds_cents) as refunds_cents,
    sum(gross_cents) - sum(refunds_cents) as net_cents,
    sum(platform_fee_cents) as platform_take_cents,
    sum(gross_cents) - sum(refunds_cents) - sum(provider_fee_cents) - sum(platform_fee_cents)
        as organizer_payout_cents
from sales
group by all
