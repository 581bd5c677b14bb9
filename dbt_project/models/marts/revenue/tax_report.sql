-- Tax per month, event country, currency, tax and rate, from the invoices' lines; credit
-- notes reduce it (their lines carry the refunded share of tax, without a rate).
with lines as (
    select
        invoices.invoice_id,
        invoices.kind,
        invoices.issued_at,
        invoices.currency,
        invoices.booking_id,
        unnest(
            from_json(
                invoices.lines,
                '[{"tax_name": "VARCHAR", "tax_rate_bps": "INTEGER", "net_cents": "BIGINT",
                   "tax_cents": "BIGINT", "gross_cents": "BIGINT"}]'
            )
        ) as line
    from {{ ref('stg_invoices') }} as invoices
)
select
    date_trunc('month', lines.issued_at) as month,
    events.country,
    lines.currency,
    lines.kind,
    coalesce(line.tax_name, case when lines.kind = 'credit_note' then 'refunds' else 'none' end)
        as tax_name,
    line.tax_rate_bps as tax_rate_bps,
    count(distinct lines.invoice_id) as documents,
    sum(line.net_cents) as net_cents,
    sum(line.tax_cents) as tax_cents,
    sum(line.gross_cents) as gross_cents
from lines
left join {{ ref('stg_bookings') }} as bookings using (booking_id)
left join {{ ref('stg_events') }} as events on events.event_id = bookings.event_id
group by all
