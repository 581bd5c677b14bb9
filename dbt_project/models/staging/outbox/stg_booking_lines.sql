-- One row per line of each booking's latest image.
with lines as (
    select
        booking_id,
        unnest(
            from_json(
                payload -> 'lines',
                '[{"ticket_type_id": "VARCHAR", "quantity": "INTEGER",
                   "unit_price_cents": "BIGINT", "net_cents": "BIGINT", "tax_cents": "BIGINT",
                   "gross_cents": "BIGINT", "tax_rate_bps": "INTEGER"}]'
            )
        ) as line
    from {{ ref('stg_bookings') }}
)
select
    booking_id,
    line.ticket_type_id as ticket_type_id,
    line.quantity as quantity,
    line.unit_price_cents as unit_price_cents,
    line.net_cents as net_cents,
    coalesce(line.tax_cents, 0) as tax_cents,
    coalesce(line.gross_cents, line.unit_price_cents * line.quantity) as gross_cents,
    coalesce(line.tax_rate_bps, 0) as tax_rate_bps
from lines
