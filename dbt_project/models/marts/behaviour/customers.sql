-- One row per customer (a user with a confirmed booking): first and last purchase, bookings,
-- money spent, repeat purchase, RFM scores (1-5, 5 best) and a segment.
with purchases as (
    select
        bookings.user_id,
        count(*) as bookings,
        min(bookings.confirmed_at) as first_purchase_at,
        max(bookings.confirmed_at) as last_purchase_at,
        sum(coalesce(payments.gross_cents, 0)) as spent_cents
    from {{ ref('stg_bookings') }} as bookings
    left join {{ ref('fct_payments') }} as payments using (booking_id)
    where bookings.status = 'confirmed'
    group by all
),
scored as (
    select
        *,
        date_diff('day', last_purchase_at, now()) as recency_days,
        ntile(5) over (order by last_purchase_at) as r_score,
        ntile(5) over (order by bookings) as f_score,
        ntile(5) over (order by spent_cents) as m_score
    from purchases
)
select
    user_id,
    bookings,
    bookings > 1 as repeat_customer,
    first_purchase_at,
    last_purchase_at,
    date_trunc('month', first_purchase_at) as cohort_month,
    spent_cents,
    recency_days,
    r_score,
    f_score,
    m_score,
    case
        when r_score >= 4 and f_score >= 4 then 'champions'
        when r_score >= 3 and f_score >= 3 then 'loyal'
        when r_score >= 4 then 'new'
        when r_score <= 2 and f_score >= 3 then 'at risk'
        when r_score <= 2 then 'hibernating'
        else 'promising'
    end as segment
from scored
