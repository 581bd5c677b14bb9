{#- The latest row image of each entity of a kind (see stg_outbox__latest). -#}
{% macro latest_image(entity) -%}
    select * from {{ ref('stg_outbox__latest') }} where entity = '{{ entity }}'
{%- endmacro %}
