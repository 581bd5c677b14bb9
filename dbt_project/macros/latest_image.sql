{#- The latest row image of each entity of a kind: the outbox row with the highest version
    (versions of one entity only grow). `exclude` names event types whose payload is not the
    row (a reminder, a view). -#}
{% macro latest_image(entity, exclude=[]) -%}
    select *
    from {{ ref('stg_outbox__events') }}
    where entity = '{{ entity }}'
    {%- for event_type in exclude %}
      and event_type <> '{{ event_type }}'
    {%- endfor %}
    qualify row_number() over (
        partition by entity_id order by version desc, outbox_id desc
    ) = 1
{%- endmacro %}
