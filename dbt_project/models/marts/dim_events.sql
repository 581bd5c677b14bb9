-- Events with the names reports show (category, and the organizer's public name: display name,
-- else full name, as the storefront shows it) and the time zone their times are read in.
select
    events.event_id,
    events.title,
    events.organizer_id,
    coalesce(organizers.display_name, organizers.full_name, 'Unknown organizer') as organizer_name,
    events.category_id,
    coalesce(categories.category_name, 'Uncategorised') as category_name,
    events.city,
    events.country,
    events.currency,
    events.status,
    events.starts_at,
    events.timezone
from {{ ref('stg_events') }} as events
left join {{ ref('stg_users') }} as organizers on organizers.user_id = events.organizer_id
left join {{ ref('stg_categories') }} as categories using (category_id)
where not events.is_deleted
