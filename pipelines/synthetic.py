# ruff: noqa: S608 - the SQL below is built from integers and constants of this module only
"""Synthetic outbox data at scale, straight into the warehouse's raw table (the bulk mode).

The demo data of `make up` goes through the service layer, so its outbox is real; that is too
slow for a million bookings. This writes outbox rows of the same shape (the row images the
staging models read) with DuckDB's own SQL, with distributions a ticketing platform sees:
- event popularity is skewed (log-normal demand), prices are log-normal around 35.00,
- sales cluster before the event (the sale date is the start minus an exponential lead time),
- 1 to 6 tickets per booking (mostly 1 or 2), 4 % of payments fail, 3 % of paid bookings
  are refunded,
- views are about eight per booking, most people who come check in.
Everything is drawn from a seeded generator, so the same arguments give the same data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from pipelines.ingest import ensure_raw


@dataclass(frozen=True)
class Generated:
    bookings: int
    events: int
    users: int
    rows: int


def generate(
    warehouse: duckdb.DuckDBPyConnection,
    *,
    bookings: int = 1_000_000,
    seed: float = 0.42,
    days: int = 365,
) -> Generated:
    """Append about `bookings` bookings (and their events, users, payments, refunds, invoices,
    check-ins and views) to raw.outbox_events."""
    ensure_raw(warehouse)
    events = max(10, bookings // 200)
    users = max(50, bookings // 5)
    organizers = max(3, events // 25)
    warehouse.execute(f"select setseed({seed})")
    warehouse.execute(
        f"""
        create or replace temp table sim_events as
        select
            i as n,
            uuid() as event_id,
            uuid() as ticket_type_id,
            (i % {organizers}) as organizer_n,
            ['Music', 'Theatre', 'Sport', 'Comedy', 'Conference', 'Food', 'Art', 'Family',
             'Film', 'Workshop'][1 + (i % 10)] as category,
            ['Berlin', 'Hamburg', 'Munich', 'Vienna', 'Zurich', 'Paris', 'Lyon', 'Madrid',
             'Lisbon', 'Amsterdam'][1 + ((i * 7) % 10)] as city,
            case when i % 9 = 0 then 'USD' else 'EUR' end as currency,
            greatest(500, cast(exp(ln(3500) + 0.5 * sqrt(-2 * ln(random())) *
                cos(2 * pi() * random())) as bigint) // 100 * 100) as price_cents,
            now() - to_days(cast({days} as integer))
                + to_days(cast(floor(random() * ({days} + 90)) as integer)) as starts_at,
            exp(sqrt(-2 * ln(random())) * cos(2 * pi() * random())) as popularity
        from range({events}) as t(i)
        """
    )
    warehouse.execute(
        f"""
        create or replace temp table sim_bookings as
        with weights as (
            select *, popularity / sum(popularity) over () as share from sim_events
        ),
        counts as (
            select *, greatest(1, cast(round(share * {bookings}) as bigint)) as wanted
            from weights
        )
        select
            uuid() as booking_id,
            uuid() as payment_id,
            uuid() as invoice_id,
            counts.event_id,
            counts.ticket_type_id,
            counts.organizer_n,
            counts.currency,
            counts.price_cents,
            counts.starts_at,
            cast(floor(random() * {users}) as bigint) as user_n,
            case when random() < 0.55 then 1 when random() < 0.7 then 2
                 else 2 + cast(floor(random() * 5) as integer) end as seats,
            counts.starts_at - to_seconds(cast(-ln(1 - random()) * 14 * 86400 + 600 as bigint))
                as sold_at,
            random() as fate
        from counts, range(counts.wanted)
        """
    )
    capacity = "greatest(20, cast(sum(seats) * (0.8 + random() * 0.6) as bigint))"
    warehouse.execute(
        f"""
        create or replace temp table sim_capacity as
        select event_id, {capacity} as capacity from sim_bookings group by event_id
        """
    )
    total_before = warehouse.execute("select count(*) from raw.outbox_events").fetchall()[0][0]
    insert = (
        "insert into raw.outbox_events select uuid()::varchar, 0, null, event_type, entity, "
        "entity_id, version, payload, occurred_at, null, null, now() from ({}) "
        "as rows(event_type, entity, entity_id, version, payload, occurred_at)"
    )
    user_rows = f"""
        select 'user.registered' as event_type, 'user' as entity,
            'user-' || i as entity_id, 1 as version,
            json_object('display_name', 'Person ' || i, 'role',
                case when i < {organizers} then 'organizer' else 'attendee' end,
                'status', 'active',
                'created_at', now() - to_days(cast({days} + 30 as integer))) as payload,
            now() - to_days(cast({days} + 30 as integer)) as occurred_at
        from range({users}) as t(i)
    """
    event_rows = """
        select 'event.published', 'event', e.event_id::varchar, 2,
            json_object('title', e.category || ' night ' || e.n, 'organizer_id',
                'user-' || e.organizer_n, 'category_id', 'category-' || e.category,
                'city', e.city, 'country', 'DE', 'currency', e.currency,
                'status', case when e.starts_at < now() then 'completed' else 'published' end,
                'capacity', c.capacity, 'starts_at', e.starts_at,
                'ends_at', e.starts_at + interval 3 hour,
                'published_at', e.starts_at - interval 60 day,
                'created_at', e.starts_at - interval 61 day),
            e.starts_at - interval 60 day
        from sim_events as e join sim_capacity as c using (event_id)
    """
    category_rows = """
        select distinct 'category.created', 'category', 'category-' || category, 1,
            json_object('name', category, 'slug', lower(category)),
            now() - interval 400 day
        from sim_events
    """
    ticket_type_rows = """
        select 'ticket_type.created', 'ticket_type', e.ticket_type_id::varchar, 1,
            json_object('event_id', e.event_id, 'name', 'General admission',
                'price_cents', e.price_cents, 'quantity', c.capacity),
            e.starts_at - interval 61 day
        from sim_events as e join sim_capacity as c using (event_id)
    """
    booking_image = """
        json_object('user_id', 'user-' || user_n, 'event_id', event_id, 'status', {status},
            'currency', currency, 'total_cents', price_cents * seats, 'tax_cents', 0,
            'seats', seats, 'created_at', sold_at, 'confirmed_at', {confirmed},
            'cancelled_at', null,
            'lines', json_array(json_object('ticket_type_id', ticket_type_id,
                'quantity', seats, 'unit_price_cents', price_cents,
                'net_cents', price_cents * seats, 'tax_cents', 0,
                'gross_cents', price_cents * seats, 'tax_rate_bps', 0)))
    """
    paid = "fate >= 0.04"
    refunded = "fate >= 0.97"
    fee = "(price_cents * seats * 29 + 500) // 1000 + 30"
    platform = "(price_cents * seats * 250 + 5000) // 10000"
    payment_image = f"""
        json_object('booking_id', booking_id, 'user_id', 'user-' || user_n,
            'event_id', event_id, 'organizer_id', 'user-' || organizer_n,
            'provider', 'sandbox', 'status', {{status}}, 'currency', currency,
            'amount_cents', price_cents * seats,
            'provider_fee_cents', case when {{status}} = 'succeeded' then {fee} else 0 end,
            'platform_fee_cents', case when {{status}} = 'succeeded' then {platform} else 0 end,
            'created_at', sold_at, 'succeeded_at', {{succeeded}})
    """
    booking_rows = f"""
        select 'booking.created', 'booking', booking_id::varchar, 1,
            {booking_image.format(status="'pending'", confirmed="null")}, sold_at
        from sim_bookings
        union all
        select 'booking.confirmed', 'booking', booking_id::varchar, 2,
            {booking_image.format(status="'confirmed'", confirmed="sold_at + interval 1 minute")},
            sold_at + interval 1 minute
        from sim_bookings where {paid}
        union all
        select 'booking.expired', 'booking', booking_id::varchar, 2,
            {booking_image.format(status="'expired'", confirmed="null")},
            sold_at + interval 15 minute
        from sim_bookings where not ({paid})
        union all
        select 'booking.refunded', 'booking', booking_id::varchar, 3,
            {booking_image.format(status="'refunded'", confirmed="sold_at + interval 1 minute")},
            sold_at + interval 3 day
        from sim_bookings where {refunded}
    """
    payment_rows = f"""
        select 'payment.succeeded', 'payment', payment_id::varchar, 2,
            {payment_image.format(status="'succeeded'", succeeded="sold_at + interval 1 minute")},
            sold_at + interval 1 minute
        from sim_bookings where {paid}
        union all
        select 'payment.failed', 'payment', payment_id::varchar, 2,
            {payment_image.format(status="'failed'", succeeded="null")}, sold_at
        from sim_bookings where not ({paid})
    """
    refund_rows = f"""
        select 'refund.succeeded', 'refund', 'refund-' || booking_id, 2,
            json_object('payment_id', payment_id, 'booking_id', booking_id,
                'status', 'succeeded', 'currency', currency,
                'amount_cents', price_cents * seats, 'reason', 'booking cancelled',
                'created_at', sold_at + interval 3 day,
                'succeeded_at', sold_at + interval 3 day),
            sold_at + interval 3 day
        from sim_bookings where {refunded}
    """
    invoice_rows = f"""
        select 'invoice.issued', 'invoice', invoice_id::varchar, 1,
            json_object('number', 'INV-' || organizer_n || '-' || row_number() over
                    (partition by organizer_n order by sold_at, booking_id),
                'kind', 'invoice',
                'sequence', row_number() over (partition by organizer_n order by sold_at,
                    booking_id),
                'organizer_id', 'user-' || organizer_n, 'booking_id', booking_id,
                'payment_id', payment_id, 'currency', currency,
                'net_cents', price_cents * seats, 'tax_cents', 0,
                'gross_cents', price_cents * seats,
                'seller', json_object('name', 'Organizer ' || organizer_n),
                'buyer', json_object('name', 'Person ' || user_n),
                'lines', json_array(json_object('tax_name', null, 'tax_rate_bps', 0,
                    'net_cents', price_cents * seats, 'tax_cents', 0,
                    'gross_cents', price_cents * seats)),
                'issued_at', sold_at + interval 1 minute),
            sold_at + interval 1 minute
        from sim_bookings where {paid}
    """
    view_rows = """
        select 'event.viewed', 'event', event_id::varchar, 1, json_object('source', 'web'),
            sold_at - to_seconds(cast(random() * 86400 * 3 as bigint))
        from sim_bookings, range(8)
    """
    check_in_rows = f"""
        select 'ticket.checked_in', 'ticket', 'ticket-' || booking_id || '-' || k, 2,
            json_object('event_id', event_id, 'booking_id', booking_id,
                'checked_in_at', starts_at + interval 20 minute),
            starts_at + interval 20 minute
        from sim_bookings, range(seats) as s(k)
        where {paid} and not ({refunded}) and starts_at < now() and random() < 0.88
    """
    for rows in (
        user_rows,
        category_rows,
        event_rows,
        ticket_type_rows,
        booking_rows,
        payment_rows,
        refund_rows,
        invoice_rows,
        view_rows,
        check_in_rows,
    ):
        warehouse.execute(insert.format(rows))
    total = warehouse.execute("select count(*) from raw.outbox_events").fetchall()[0][0]
    made = warehouse.execute("select count(*) from sim_bookings").fetchall()[0][0]
    return Generated(bookings=int(made), events=events, users=users, rows=total - total_before)


def one_more_sale(warehouse: duckdb.DuckDBPyConnection) -> str:
    """A new paid booking of an existing event, sold now, with the organizer's next invoice
    number: what a refresh after one sale has to bring in. Returns the booking id."""
    booking = warehouse.execute(
        """
        select payload ->> 'event_id', payload ->> 'user_id'
        from raw.outbox_events where event_type = 'booking.confirmed' limit 1
        """
    ).fetchall()[0]
    event_id, user_id = booking
    payment = warehouse.execute(
        "select payload ->> 'organizer_id', payload ->> 'currency', "
        "(payload ->> 'amount_cents')::bigint from raw.outbox_events "
        "where event_type = 'payment.succeeded' and payload ->> 'event_id' = ? limit 1",
        [event_id],
    ).fetchall()[0]
    organizer_id, currency, amount = payment
    sequence = warehouse.execute(
        "select coalesce(max((payload ->> 'sequence')::bigint), 0) + 1 from raw.outbox_events "
        "where event_type = 'invoice.issued' and payload ->> 'organizer_id' = ?",
        [organizer_id],
    ).fetchall()[0][0]
    booking_id = warehouse.execute("select uuid()::varchar").fetchall()[0][0]
    rows = [
        (
            "booking.confirmed",
            "booking",
            booking_id,
            2,
            {
                "user_id": user_id,
                "event_id": event_id,
                "status": "confirmed",
                "currency": currency,
                "total_cents": amount,
                "tax_cents": 0,
                "seats": 1,
                "created_at": "now",
                "confirmed_at": "now",
                "cancelled_at": None,
            },
        ),
        (
            "payment.succeeded",
            "payment",
            f"payment-{booking_id}",
            2,
            {
                "booking_id": booking_id,
                "user_id": user_id,
                "event_id": event_id,
                "organizer_id": organizer_id,
                "provider": "sandbox",
                "status": "succeeded",
                "currency": currency,
                "amount_cents": amount,
                "provider_fee_cents": 0,
                "platform_fee_cents": 0,
                "created_at": "now",
                "succeeded_at": "now",
            },
        ),
        (
            "invoice.issued",
            "invoice",
            f"invoice-{booking_id}",
            1,
            {
                "number": f"INV-{organizer_id}-{sequence}",
                "kind": "invoice",
                "sequence": sequence,
                "organizer_id": organizer_id,
                "booking_id": booking_id,
                "payment_id": f"payment-{booking_id}",
                "currency": currency,
                "net_cents": amount,
                "tax_cents": 0,
                "gross_cents": amount,
                "lines": [],
                "issued_at": "now",
            },
        ),
    ]
    for event_type, entity, entity_id, version, payload in rows:
        warehouse.execute(
            "insert into raw.outbox_events select uuid()::varchar, 0, null, ?, ?, ?, ?, "
            "replace(?, '\"now\"', '\"' || strftime(now(), '%Y-%m-%dT%H:%M:%S+00:00') || '\"')"
            "::json, now(), null, null, now()",
            [event_type, entity, entity_id, version, json.dumps(payload)],
        )
    return str(booking_id)
