-- The payout statement: per organizer, month and currency, what was sold, refunded, kept in
-- fees, and is owed to the organizer.
select
    organizer_id,
    date_trunc('month', revenue_date) as month,
    currency,
    sum(payments) as payments,
    sum(refunds) as refunds,
    sum(gross_cents) as gross_cents,
    sum(refunds_cents) as refunds_cents,
    sum(provider_fee_cents) as provider_fee_cents,
    sum(platform_fee_cents) as platform_fee_cents,
    sum(organizer_payout_cents) as payout_cents
from {{ ref('revenue_daily') }}
group by all
