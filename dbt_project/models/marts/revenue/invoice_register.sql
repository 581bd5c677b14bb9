-- Every invoice and credit note, in number order per organizer.
select
    invoices.invoice_number,
    invoices.kind,
    invoices.issued_at,
    cast(invoices.issued_at as date) as issue_date,
    invoices.organizer_id,
    invoices.seller_name,
    invoices.buyer_name,
    invoices.buyer_email,
    invoices.booking_id,
    invoices.payment_id,
    invoices.refund_id,
    bookings.event_id,
    invoices.currency,
    invoices.net_cents,
    invoices.tax_cents,
    invoices.gross_cents,
    invoices.sequence
from {{ ref('stg_invoices') }} as invoices
left join {{ ref('stg_bookings') }} as bookings using (booking_id)
